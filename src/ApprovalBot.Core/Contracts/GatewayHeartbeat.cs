namespace ApprovalBot.Core.Contracts;

/// <summary>Published by each gateway every few seconds; bots build <c>/policy status</c> from it.</summary>
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
    DateTimeOffset SentAt);

public sealed record UpstreamHealth(string Name, bool Connected, int Tools, string? Error);

/// <summary>Policy decisions taken by the gateway itself today (UTC), as opposed to human decisions.</summary>
public sealed record DecisionCounts(int Allowed, int DeniedByPolicy, int RateLimited, int HeldForApproval);
