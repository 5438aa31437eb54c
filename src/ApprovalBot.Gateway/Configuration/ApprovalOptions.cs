namespace ApprovalBot.Gateway.Configuration;

/// <summary>Bound from <c>ApprovalBot:Approvals</c>.</summary>
public sealed record ApprovalOptions
{
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxPendingPerAgent { get; init; } = 5;

    /// <summary>How often pending approvals are checked for expiry.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an approved retry-mode call stays claimable by the agent's identical call.</summary>
    public TimeSpan RetryClaimWindow { get; init; } = TimeSpan.FromMinutes(10);
}
