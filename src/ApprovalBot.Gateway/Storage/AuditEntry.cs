namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// One row of the audit trail. Holds the argument digest, never argument values.
/// Decision is a verb an operator can grep: allowed, denied, hidden, rate_limited, held, approved, …
/// </summary>
/// <param name="Reference">Where a card was posted (Slack channel and ts, Teams conversation and activity); null otherwise.</param>
/// <param name="GrantId">The time-boxed grant the row is about (grant_created, allowed_by_grant, grant_ended).</param>
public sealed record AuditEntry(
    DateTimeOffset At,
    string Decision,
    string? Agent = null,
    string? Tool = null,
    string? Rule = null,
    string? Reason = null,
    double? DurationMs = null,
    string? Digest = null,
    Guid? ApprovalId = null,
    string? Actor = null,
    string? Channel = null,
    string? Reference = null,
    Guid? GrantId = null);
