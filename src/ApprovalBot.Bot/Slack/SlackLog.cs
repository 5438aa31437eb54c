using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Every Slack log line, with event names an operator can grep for. Never logs a token or secret.
/// Event ids of the bot: Slack 40xx, Approvals 41xx, Bus 42xx, Teams 51xx.
/// </summary>
internal static partial class SlackLog
{
    [LoggerMessage(EventId = 4001, EventName = "SlackSignatureRejected", Level = LogLevel.Warning,
        Message = "Rejected a request to {Path}: Slack signature check failed ({Reason}) from {RemoteAddress}.")]
    public static partial void SignatureRejected(ILogger logger, string path, SlackSignatureResult reason, string? remoteAddress);

    [LoggerMessage(EventId = 4002, EventName = "SlackApiError", Level = LogLevel.Warning,
        Message = "Slack Web API {Method} answered ok:false with error {Error}.")]
    public static partial void ApiError(ILogger logger, string method, string error);

    [LoggerMessage(EventId = 4003, EventName = "SlackRateLimited", Level = LogLevel.Information,
        Message = "Slack Web API {Method} is rate limited (429); retrying after {Delay} (attempt {Attempt}).")]
    public static partial void RateLimited(ILogger logger, string method, TimeSpan delay, int attempt);

    [LoggerMessage(EventId = 4004, EventName = "SlackApiHttpError", Level = LogLevel.Warning,
        Message = "Slack Web API {Method} answered HTTP {StatusCode}.")]
    public static partial void ApiHttpError(ILogger logger, string method, int statusCode);

    [LoggerMessage(EventId = 4010, EventName = "SlackCardPosted", Level = LogLevel.Information,
        Message = "Posted the Slack card for approval {ApprovalId} ({Tool}) to {Channel} as {Ts}.")]
    public static partial void CardPosted(ILogger logger, Guid approvalId, string tool, string channel, string ts);

    [LoggerMessage(EventId = 4011, EventName = "SlackCardPostRetry", Level = LogLevel.Warning,
        Message = "Could not post the Slack card for approval {ApprovalId} (attempt {Attempt}, {Error}); retrying in {Delay}.")]
    public static partial void CardPostRetry(ILogger logger, Guid approvalId, int attempt, string error, TimeSpan delay);

    [LoggerMessage(EventId = 4012, EventName = "SlackCardPostFailed", Level = LogLevel.Error,
        Message = "Gave up posting the Slack card for approval {ApprovalId} ({Error}); it can still be decided in other channels.")]
    public static partial void CardPostFailed(ILogger logger, Guid approvalId, string error);

    [LoggerMessage(EventId = 4013, EventName = "SlackCardAlreadyPosted", Level = LogLevel.Debug,
        Message = "The Slack card for approval {ApprovalId} is already posted; not posting again.")]
    public static partial void CardAlreadyPosted(ILogger logger, Guid approvalId);

    [LoggerMessage(EventId = 4014, EventName = "SlackCardUpdated", Level = LogLevel.Information,
        Message = "Updated the Slack card {Reference} of approval {ApprovalId} to {Status}.")]
    public static partial void CardUpdated(ILogger logger, Guid approvalId, string reference, string status);

    [LoggerMessage(EventId = 4015, EventName = "SlackCardUpdateFailed", Level = LogLevel.Error,
        Message = "Could not update the Slack card {Reference} of approval {ApprovalId} ({Error}).")]
    public static partial void CardUpdateFailed(ILogger logger, Guid approvalId, string reference, string error);

    [LoggerMessage(EventId = 4016, EventName = "SlackCardMissing", Level = LogLevel.Debug,
        Message = "No Slack card is known for approval {ApprovalId}; nothing to update.")]
    public static partial void CardMissing(ILogger logger, Guid approvalId);

    [LoggerMessage(EventId = 4017, EventName = "SlackThreadReplyFailed", Level = LogLevel.Warning,
        Message = "Could not post the execution result of approval {ApprovalId} under {Reference} ({Error}).")]
    public static partial void ThreadReplyFailed(ILogger logger, Guid approvalId, string reference, string error);

    [LoggerMessage(EventId = 4020, EventName = "SlackDecisionSent", Level = LogLevel.Information,
        Message = "Slack user {UserId} ({Team}) {Action} approval {ApprovalId}: {Outcome}")]
    public static partial void DecisionSent(ILogger logger, string userId, string? team, string action, Guid approvalId, string outcome);

    [LoggerMessage(EventId = 4021, EventName = "SlackNotAnApprover", Level = LogLevel.Warning,
        Message = "Slack user {UserId} ({Team}) is not an approver for approval {ApprovalId} ({Tool}); refused.")]
    public static partial void NotAnApprover(ILogger logger, string userId, string? team, Guid approvalId, string tool);

    [LoggerMessage(EventId = 4022, EventName = "SlackDecisionFailed", Level = LogLevel.Error,
        Message = "Could not send the decision of Slack user {UserId} on approval {ApprovalId} to the gateway.")]
    public static partial void DecisionFailed(ILogger logger, Exception exception, string userId, Guid approvalId);

    [LoggerMessage(EventId = 4023, EventName = "SlackDuplicateDelivery", Level = LogLevel.Information,
        Message = "Ignored a repeated Slack delivery {Key} (retry {RetryNum}).")]
    public static partial void DuplicateDelivery(ILogger logger, string key, string? retryNum);

    [LoggerMessage(EventId = 4024, EventName = "SlackUnknownApproval", Level = LogLevel.Warning,
        Message = "A Slack action named approval {ApprovalId}, which this bot does not know.")]
    public static partial void UnknownApproval(ILogger logger, Guid approvalId);

    [LoggerMessage(EventId = 4025, EventName = "SlackUnhandledPayload", Level = LogLevel.Debug,
        Message = "Ignored a Slack {Kind} payload of type {Type}.")]
    public static partial void UnhandledPayload(ILogger logger, string kind, string? type);

    [LoggerMessage(EventId = 4026, EventName = "SlackMalformedPayload", Level = LogLevel.Warning,
        Message = "A signed Slack request to {Path} carried a payload that could not be read: {Problem}.")]
    public static partial void MalformedPayload(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 4027, EventName = "SlackEphemeralFailed", Level = LogLevel.Warning,
        Message = "Could not show Slack user {UserId} the message about approval {ApprovalId} ({Error}).")]
    public static partial void EphemeralFailed(ILogger logger, string userId, Guid approvalId, string error);

    [LoggerMessage(EventId = 4028, EventName = "SlackModalFailed", Level = LogLevel.Warning,
        Message = "Could not open the deny-with-reason dialog for Slack user {UserId} on approval {ApprovalId} ({Error}).")]
    public static partial void ModalFailed(ILogger logger, string userId, Guid approvalId, string error);

    [LoggerMessage(EventId = 4030, EventName = "SlackWorkFailed", Level = LogLevel.Error,
        Message = "Slack background work {Work} failed.")]
    public static partial void WorkFailed(ILogger logger, Exception exception, string work);

    [LoggerMessage(EventId = 4031, EventName = "SlackWorkQueueFull", Level = LogLevel.Error,
        Message = "The Slack work queue is full; dropped {Work}.")]
    public static partial void WorkQueueFull(ILogger logger, string work);

    [LoggerMessage(EventId = 4040, EventName = "SlackStatusFailed", Level = LogLevel.Error,
        Message = "Could not build /policy {SubCommand} for Slack user {UserId}.")]
    public static partial void StatusFailed(ILogger logger, Exception exception, string subCommand, string? userId);

    [LoggerMessage(EventId = 4050, EventName = "SlackSocketConnected", Level = LogLevel.Information,
        Message = "Slack Socket Mode connection {Connection} is open.")]
    public static partial void SocketConnected(ILogger logger, int connection);

    [LoggerMessage(EventId = 4051, EventName = "SlackSocketHello", Level = LogLevel.Debug,
        Message = "Slack Socket Mode connection {Connection} said hello.")]
    public static partial void SocketHello(ILogger logger, int connection);

    [LoggerMessage(EventId = 4052, EventName = "SlackSocketDisconnectRequested", Level = LogLevel.Information,
        Message = "Slack asked Socket Mode connection {Connection} to disconnect ({Reason}); opening a new one first.")]
    public static partial void SocketDisconnectRequested(ILogger logger, int connection, string? reason);

    [LoggerMessage(EventId = 4053, EventName = "SlackSocketClosed", Level = LogLevel.Information,
        Message = "Slack Socket Mode connection {Connection} closed.")]
    public static partial void SocketClosed(ILogger logger, int connection);

    [LoggerMessage(EventId = 4054, EventName = "SlackSocketFailed", Level = LogLevel.Warning,
        Message = "Slack Socket Mode failed; reconnecting in {Delay}.")]
    public static partial void SocketFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 4055, EventName = "SlackSocketEnvelopeFailed", Level = LogLevel.Error,
        Message = "Could not handle the Slack Socket Mode envelope {EnvelopeId} of type {Type}.")]
    public static partial void SocketEnvelopeFailed(ILogger logger, Exception exception, string? envelopeId, string? type);

    [LoggerMessage(EventId = 4060, EventName = "SlackGrantRevokeAnswered", Level = LogLevel.Information,
        Message = "Slack user {UserId} asked to revoke grant {GrantId}: {Outcome}")]
    public static partial void GrantRevokeAnswered(ILogger logger, string userId, Guid grantId, string outcome);
}
