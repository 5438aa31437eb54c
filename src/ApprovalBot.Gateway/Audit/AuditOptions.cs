namespace ApprovalBot.Gateway.Audit;

/// <summary>Bound from <c>ApprovalBot:Audit</c>.</summary>
public sealed record AuditOptions
{
    public const string SectionPath = "ApprovalBot:Audit";

    /// <summary>Audit rows, ended approvals and webhook deliveries older than this many days are removed; 0 keeps everything.</summary>
    public int RetentionDays { get; init; } = 365;

    /// <summary>How often the pruning job runs (it also runs once at start-up).</summary>
    public TimeSpan PruneInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Rows per delete: each batch is one short transaction, so the gateway's writers never wait long.</summary>
    public int PruneBatchSize { get; init; } = 1000;

    public IEnumerable<string> Validate()
    {
        if (RetentionDays < 0)
        {
            yield return $"{SectionPath}:RetentionDays must be 0 (keep everything) or a number of days (got {RetentionDays}).";
        }

        if (PruneInterval <= TimeSpan.Zero)
        {
            yield return $"{SectionPath}:PruneInterval must be positive (e.g. 01:00:00).";
        }

        if (PruneBatchSize is < 1 or > 100_000)
        {
            yield return $"{SectionPath}:PruneBatchSize must be 1-100000 (got {PruneBatchSize}).";
        }
    }
}
