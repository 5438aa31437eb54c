using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Bus;

/// <summary>
/// Every log line of the bot's bus consumers. Event ids of the bot: Slack 40xx, Approvals 41xx,
/// Bus 42xx, Teams 51xx.
/// </summary>
internal static partial class BusLog
{
    [LoggerMessage(EventId = 4200, EventName = "ChannelFailed", Level = LogLevel.Error,
        Message = "Channel {Channel} failed on approval {ApprovalId}: {Reason}")]
    public static partial void ChannelFailed(ILogger logger, string channel, Guid approvalId, string reason);

    [LoggerMessage(EventId = 4201, EventName = "ApprovalLapsed", Level = LogLevel.Information,
        Message = "Approval {ApprovalId} lapsed: approved, but the agent never came back for it; updating its cards")]
    public static partial void ApprovalLapsed(ILogger logger, Guid approvalId);
}
