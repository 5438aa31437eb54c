using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Approvals;

/// <summary>
/// Every log line about decisions sent to the gateways. Event ids of the bot: Slack 40xx, Approvals
/// 41xx, Bus 42xx, Teams 51xx.
/// </summary>
internal static partial class ApprovalsLog
{
    [LoggerMessage(EventId = 4100, EventName = "DecisionAnswered", Level = LogLevel.Information,
        Message = "Decision on {ApprovalId} by {Principal} answered: {Status}")]
    public static partial void DecisionAnswered(ILogger logger, Guid approvalId, string principal, string status);

    [LoggerMessage(EventId = 4101, EventName = "DecisionUnanswered", Level = LogLevel.Warning,
        Message = "Decision on {ApprovalId} got no answer from gateway {Gateway}")]
    public static partial void DecisionUnanswered(ILogger logger, Guid approvalId, string gateway);
}
