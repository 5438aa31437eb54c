using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Grants;

/// <summary>
/// Every log line about grants on the bot's side. Event ids of the bot: Slack 40xx, Approvals 41xx
/// (grants 411x), Bus 42xx, Teams 51xx.
/// </summary>
internal static partial class GrantsLog
{
    [LoggerMessage(EventId = 4110, EventName = "GrantRevokeAnswered", Level = LogLevel.Information,
        Message = "Revocation of grant {GrantId} by {Principal} answered: accepted {Accepted}")]
    public static partial void RevokeAnswered(ILogger logger, Guid grantId, string principal, bool accepted);

    [LoggerMessage(EventId = 4111, EventName = "GrantRevokeUnanswered", Level = LogLevel.Warning,
        Message = "Revocation of grant {GrantId} got no answer from gateway {Gateway}")]
    public static partial void RevokeUnanswered(ILogger logger, Guid grantId, string gateway);

    [LoggerMessage(EventId = 4112, EventName = "GrantRecorded", Level = LogLevel.Information,
        Message = "Grant {GrantId} recorded: {Tool} for agent {Agent} until {ExpiresAt}")]
    public static partial void GrantRecorded(ILogger logger, Guid grantId, string tool, string agent, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 4113, EventName = "GrantEndRecorded", Level = LogLevel.Information,
        Message = "Grant {GrantId} ended: {Reason}")]
    public static partial void GrantEndRecorded(ILogger logger, Guid grantId, string reason);
}
