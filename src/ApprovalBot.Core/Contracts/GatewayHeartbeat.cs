namespace ApprovalBot.Core.Contracts;

/// <summary>Published by each gateway every few seconds; bots build <c>/policy status</c> from it.</summary>
/// <param name="Webhooks">Outbound webhooks and their delivery state; null from gateways that predate webhooks.</param>
public sealed record GatewayHeartbeat(
    string Instance,
    string Version,
    string PolicySummary,
    string PolicyDefault,
    int PolicyRules,
    DateTimeOffset? PolicyLoadedAt,
    IReadOnlyList<UpstreamHealth> Upstreams,
    int PendingCount,
    DecisionCounts Today,
    DateTimeOffset SentAt,
    IReadOnlyList<WebhookHealth>? Webhooks = null);

public sealed record UpstreamHealth(string Name, bool Connected, int Tools, string? Error);

/// <summary>Policy decisions taken by the gateway itself today (UTC), as opposed to human decisions.</summary>
public sealed record DecisionCounts(int Allowed, int DeniedByPolicy, int RateLimited, int HeldForApproval);

/// <summary>One outbound webhook as the gateway sees it.</summary>
/// <param name="Failing">Its last attempt failed, or events are waiting for a retry.</param>
/// <param name="Waiting">Events not delivered yet (retries included).</param>
/// <param name="GivenUp">Events abandoned after the retry period (kept a few days for inspection).</param>
/// <param name="LastError">The latest failure ("HTTP 500", "no answer within 10 s"); never a body or a secret.</param>
public sealed record WebhookHealth(
    string Name,
    bool Failing,
    int Waiting,
    int GivenUp,
    string? LastError,
    DateTimeOffset? OldestWaitingSince,
    DateTimeOffset? LastDeliveredAt);
