namespace ApprovalBot.Gateway.Configuration;

/// <summary>Bound from <c>ApprovalBot:Approvals</c>.</summary>
public sealed record ApprovalOptions
{
    public const string SectionPath = "ApprovalBot:Approvals";

    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromMinutes(10);
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(10);
    public int MaxPendingPerAgent { get; init; } = 5;

    /// <summary>How often pending approvals are checked for expiry (and approved ones for lapsing).</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a guarded call waits for a decision before it is handed back as pending. Below the
    /// ~60 s after which common MCP clients give up on a request; a rule's <c>hold</c> overrides it.
    /// </summary>
    public TimeSpan HoldFor { get; init; } = TimeSpan.FromSeconds(40);

    /// <summary>How long an approval decided while no call waited can be collected by the agent's identical call; then it lapses.</summary>
    public TimeSpan RedeemWindow { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a denial, expiry or withdrawal answers the agent's identical calls instead of a new approval.</summary>
    public TimeSpan OutcomeRetention { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Every problem, one line each, naming the key.</summary>
    public IEnumerable<string> Validate()
    {
        if (DefaultTimeout <= TimeSpan.Zero)
        {
            yield return $"{SectionPath}:DefaultTimeout must be positive (e.g. 00:10:00).";
        }

        if (ProgressInterval <= TimeSpan.Zero)
        {
            yield return $"{SectionPath}:ProgressInterval must be positive (e.g. 00:00:10).";
        }

        if (MaxPendingPerAgent < 1)
        {
            yield return $"{SectionPath}:MaxPendingPerAgent must be at least 1.";
        }

        if (SweepInterval <= TimeSpan.Zero)
        {
            yield return $"{SectionPath}:SweepInterval must be positive (e.g. 00:00:01).";
        }

        if (HoldFor < TimeSpan.Zero)
        {
            yield return $"{SectionPath}:HoldFor must not be negative (00:00:00 hands every guarded call back at once).";
        }

        if (RedeemWindow <= TimeSpan.Zero)
        {
            yield return $"{SectionPath}:RedeemWindow must be positive (e.g. 00:30:00).";
        }

        if (OutcomeRetention < TimeSpan.Zero)
        {
            yield return $"{SectionPath}:OutcomeRetention must not be negative (e.g. 01:00:00).";
        }
    }
}
