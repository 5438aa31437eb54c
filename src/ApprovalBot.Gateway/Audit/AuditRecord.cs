namespace ApprovalBot.Gateway.Audit;

/// <summary>
/// One audit row as the API, the CLI and the exports show it: the same fields in JSON, JSON lines
/// and CSV. Never argument values: the digest stands for them.
/// </summary>
/// <param name="Id">Increases with every row written; part of the paging cursor.</param>
/// <param name="Decision">See <see cref="AuditDecisions"/>; a human denial reads <c>denied_by_human</c>.</param>
/// <param name="Reason">The rule's reason, a decision comment or a failure summary (redacted).</param>
/// <param name="Actor">Who decided (<c>slack:U123</c>, <c>console:admin</c>); null for the gateway itself.</param>
/// <param name="Channel">slack, teams, console: where a decision was taken or a card posted.</param>
/// <param name="Reference">A posted card's message reference.</param>
/// <param name="GrantId">The time-boxed grant the row is about (grant_created, allowed_by_grant, grant_revoked …).</param>
public sealed record AuditRecord(
    long Id,
    DateTimeOffset At,
    string Decision,
    string? Agent,
    string? Tool,
    string? Rule,
    string? Reason,
    double? DurationMs,
    string? Digest,
    Guid? ApprovalId,
    string? Actor,
    string? Channel,
    string? Reference,
    Guid? GrantId = null);

/// <summary>A page of the audit, newest first; <paramref name="NextCursor"/> asks for the page after it (null: no more).</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Items, string? NextCursor);
