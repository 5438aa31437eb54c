namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// A time-boxed grant as the gateway stores it: until <see cref="ExpiresAt"/>, calls of
/// <see cref="Agent"/> to <see cref="Tool"/> that the same, unchanged rule would hold run without a card.
/// </summary>
/// <param name="Scope"><c>tool</c>, or <c>arguments</c> (then only calls with <see cref="Digest"/>).</param>
/// <param name="Revokers">The rule's approvers when it was given (empty = any authenticated channel user); the grantor may always revoke.</param>
/// <param name="EndReason">expired, revoked, rule_removed or rule_changed; null while active.</param>
public sealed record GrantRecord(
    Guid Id,
    Guid ApprovalId,
    string Agent,
    string Tool,
    string Upstream,
    string Rule,
    string RuleFingerprint,
    string Scope,
    string? Digest,
    string GrantedBy,
    string GrantedByName,
    string Channel,
    IReadOnlyList<string> Revokers,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    string Instance,
    DateTimeOffset? EndedAt = null,
    string? EndReason = null,
    string? EndedBy = null,
    string? EndedByName = null,
    string? EndComment = null)
{
    public const string ToolScope = "tool";
    public const string ArgumentsScope = "arguments";

    public bool IsActive(DateTimeOffset now) => EndedAt is null && ExpiresAt > now;
}
