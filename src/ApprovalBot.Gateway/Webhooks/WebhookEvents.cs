using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Webhooks;

/// <summary>
/// Event names receivers subscribe to, and which audit decisions raise them. Part of the wire
/// format: names are added, never renamed (schemas/webhook-event.schema.json).
/// </summary>
public static class WebhookEvents
{
    public const string ApprovalRequested = "approval.requested";
    public const string ApprovalVoted = "approval.voted";
    public const string ApprovalDecided = "approval.decided";
    public const string ApprovalExpired = "approval.expired";
    public const string ApprovalLapsed = "approval.lapsed";
    public const string ApprovalExecuted = "approval.executed";
    public const string CallDenied = "call.denied";
    public const string CallRateLimited = "call.rate_limited";

    /// <summary>Reserved for time-boxed grants: accepted in configuration, not sent yet.</summary>
    public const string GrantCreated = "grant.created";

    public static readonly IReadOnlyList<string> All =
    [
        ApprovalRequested, ApprovalVoted, ApprovalDecided, ApprovalExpired, ApprovalLapsed, ApprovalExecuted,
        CallDenied, CallRateLimited, GrantCreated,
    ];

    /// <summary>The event an audit row raises, or null (most rows raise none: allowed calls, hand-backs, claims …).</summary>
    public static string? For(AuditEntry entry) => entry.Decision switch
    {
        "held" when entry.ApprovalId is not null => ApprovalRequested,
        "approval_counted" => ApprovalVoted,
        "approved" or "cancelled" => ApprovalDecided,
        "denied" when entry.ApprovalId is not null => ApprovalDecided,
        "expired" => ApprovalExpired,
        "lapsed" => ApprovalLapsed,
        "executed" or "execution_failed" => ApprovalExecuted,
        "denied" => CallDenied,
        "rate_limited" => CallRateLimited,
        _ => null,
    };
}
