using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Teams;

/// <summary>Every Teams log line, with event names an operator can grep for. Event ids of the bot: Slack 40xx, Approvals 41xx, Bus 42xx, Teams 51xx.</summary>
internal static partial class TeamsLog
{
    [LoggerMessage(EventId = 5100, EventName = "TeamsTokenRejected", Level = LogLevel.Warning,
        Message = "Teams: rejected an inbound activity with HTTP {StatusCode}: {Reason}")]
    public static partial void TokenRejected(ILogger logger, int statusCode, string reason);

    [LoggerMessage(EventId = 5101, EventName = "TeamsKeysRefreshed", Level = LogLevel.Information,
        Message = "Teams: loaded {KeyCount} {KeySet} signing keys from {JwksUri} ({Trigger})")]
    public static partial void KeysRefreshed(ILogger logger, int keyCount, string keySet, string jwksUri, string trigger);

    [LoggerMessage(EventId = 5102, EventName = "TeamsKeysRefreshFailed", Level = LogLevel.Warning,
        Message = "Teams: could not load the {KeySet} signing keys from {MetadataUrl}; keeping {KeyCount} known keys")]
    public static partial void KeysRefreshFailed(ILogger logger, Exception exception, string keySet, string metadataUrl, int keyCount);

    [LoggerMessage(EventId = 5104, EventName = "TeamsConnectorIdentity", Level = LogLevel.Information,
        Message = "Teams: app type {AppType}; the bot's Connector token comes from {Authority}")]
    public static partial void ConnectorIdentity(ILogger logger, string appType, string authority);

    [LoggerMessage(EventId = 5105, EventName = "TeamsConnectorTokenFailed", Level = LogLevel.Error,
        Message = "Teams: could not get the bot's Connector token (app type {AppType}, from {Authority}): {Error}")]
    public static partial void ConnectorTokenFailed(ILogger logger, Exception exception, string appType, string authority, string error);

    [LoggerMessage(EventId = 5103, EventName = "TeamsBadActivity", Level = LogLevel.Warning,
        Message = "Teams: the activity body could not be read: {Reason}")]
    public static partial void BadActivity(ILogger logger, string reason);

    [LoggerMessage(EventId = 5110, EventName = "TeamsCardPosted", Level = LogLevel.Information,
        Message = "Teams: posted the card of approval {ApprovalId} ({Tool}) as activity {ActivityId}")]
    public static partial void CardPosted(ILogger logger, Guid approvalId, string tool, string activityId);

    [LoggerMessage(EventId = 5111, EventName = "TeamsCardUpdated", Level = LogLevel.Information,
        Message = "Teams: updated the card of approval {ApprovalId} to {Status}")]
    public static partial void CardUpdated(ILogger logger, Guid approvalId, string status);

    [LoggerMessage(EventId = 5112, EventName = "TeamsPostFailed", Level = LogLevel.Error,
        Message = "Teams: could not {Operation} for approval {ApprovalId}")]
    public static partial void PostFailed(ILogger logger, Exception exception, string operation, Guid approvalId);

    [LoggerMessage(EventId = 5113, EventName = "TeamsWritesBlocked", Level = LogLevel.Error,
        Message = "Teams: the Connector refused to {Operation} with 403 MessageWritesBlocked — the app was removed from the team or chat, or blocked by an admin; re-install ApprovalBot where cards should go")]
    public static partial void WritesBlocked(ILogger logger, string operation);

    [LoggerMessage(EventId = 5114, EventName = "TeamsNoChannel", Level = LogLevel.Warning,
        Message = "Teams: approval {ApprovalId} was not posted: no channel is configured (ApprovalBot:Teams:ChannelId) and the bot has not been installed in a team yet")]
    public static partial void NoChannel(ILogger logger, Guid approvalId);

    [LoggerMessage(EventId = 5115, EventName = "TeamsConnectorRetry", Level = LogLevel.Warning,
        Message = "Teams: the Connector answered {Outcome} to {Method} {Path}; retry {Attempt} in {Delay}")]
    public static partial void ConnectorRetry(ILogger logger, string outcome, string method, string path, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 5116, EventName = "TeamsReplyFailed", Level = LogLevel.Warning,
        Message = "Teams: could not reply into conversation for a {Command} command")]
    public static partial void ReplyFailed(ILogger logger, Exception exception, string command);

    [LoggerMessage(EventId = 5120, EventName = "TeamsDecisionRefused", Level = LogLevel.Warning,
        Message = "Teams: refused a {Verb} on approval {ApprovalId} by user {AadObjectId} of tenant {TenantId}: {Reason}")]
    public static partial void DecisionRefused(ILogger logger, string verb, Guid approvalId, string? aadObjectId, string? tenantId, string reason);

    [LoggerMessage(EventId = 5121, EventName = "TeamsDecisionSent", Level = LogLevel.Information,
        Message = "Teams: {Verb} on approval {ApprovalId} by {Principal}: {Message}")]
    public static partial void DecisionSent(ILogger logger, string verb, Guid approvalId, string principal, string message);

    [LoggerMessage(EventId = 5122, EventName = "TeamsDecisionFailed", Level = LogLevel.Error,
        Message = "Teams: the decision on approval {ApprovalId} could not be delivered to the gateway")]
    public static partial void DecisionFailed(ILogger logger, Exception exception, Guid approvalId);

    [LoggerMessage(EventId = 5123, EventName = "TeamsBadAction", Level = LogLevel.Warning,
        Message = "Teams: ignored a card action without a valid verb or approval id")]
    public static partial void BadAction(ILogger logger);

    [LoggerMessage(EventId = 5130, EventName = "TeamsConversationStored", Level = LogLevel.Information,
        Message = "Teams: remembered the conversation reference (service URL {ServiceUrl}, team {TeamId}, channel {ChannelId}) from a {ActivityType} activity")]
    public static partial void ConversationStored(ILogger logger, string serviceUrl, string? teamId, string? channelId, string activityType);

    [LoggerMessage(EventId = 5131, EventName = "TeamsForeignTenant", Level = LogLevel.Warning,
        Message = "Teams: ignored a {ActivityType} activity from tenant {TenantId}, which is not the configured tenant")]
    public static partial void ForeignTenant(ILogger logger, string activityType, string? tenantId);

    [LoggerMessage(EventId = 5132, EventName = "TeamsCommand", Level = LogLevel.Information,
        Message = "Teams: answered the {Command} command")]
    public static partial void Command(ILogger logger, string command);
}
