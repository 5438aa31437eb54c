namespace ApprovalBot.Core.Contracts;

/// <summary>
/// Published by the gateway that owns a new grant ("approve for 1h"): until <paramref name="ExpiresAt"/>,
/// calls of <paramref name="Agent"/> to <paramref name="Tool"/> (with <paramref name="ArgumentDigest"/> when
/// the scope is <c>arguments</c>) run without a card. Bots keep a read model of grants from it.
/// </summary>
/// <param name="Rule">The policy rule that offered the grant; a reload that removes or changes it ends the grant.</param>
/// <param name="Scope"><c>tool</c> or <c>arguments</c>.</param>
/// <param name="ArgumentDigest">Only for scope <c>arguments</c>: the keyed digest the calls must match.</param>
/// <param name="Revokers">Who may revoke besides the grantor: the rule's approvers (empty = any authenticated channel user).</param>
/// <param name="GatewayAddress">The owning gateway's endpoint: revocations are sent there.</param>
public sealed record GrantCreated(
    Guid GrantId,
    Guid ApprovalId,
    string Agent,
    string Tool,
    string Upstream,
    string Rule,
    string Scope,
    string? ArgumentDigest,
    Approver GrantedBy,
    string Channel,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    IReadOnlyList<string> Revokers,
    Uri GatewayAddress,
    string GatewayInstance);

/// <summary>Published when a grant ends before or at its expiry.</summary>
/// <param name="Reason"><c>expired</c>, <c>revoked</c>, <c>rule_removed</c> or <c>rule_changed</c>.</param>
/// <param name="By">Who revoked it; null for the other reasons.</param>
public sealed record GrantEnded(
    Guid GrantId,
    string Reason,
    Approver? By,
    string? Comment,
    DateTimeOffset EndedAt);

/// <summary>A person's "revoke this grant", sent by a bot to the owning gateway (request/response like decisions).</summary>
/// <param name="RevokeId">Unique per click; lets the gateway answer a redelivered message without acting twice.</param>
public sealed record GrantRevoke(
    Guid GrantId,
    Guid RevokeId,
    Approver By,
    string? Comment,
    string Channel,
    DateTimeOffset At);

/// <summary>The gateway's answer to a <see cref="GrantRevoke"/>.</summary>
/// <param name="Accepted">True when this request ended the grant.</param>
public sealed record GrantRevokeOutcome(
    Guid GrantId,
    bool Accepted,
    string Message);

/// <summary>The reasons a grant ends, as stored and as sent in <see cref="GrantEnded"/>.</summary>
public static class GrantEndReasons
{
    public const string Expired = "expired";
    public const string Revoked = "revoked";
    public const string RuleRemoved = "rule_removed";
    public const string RuleChanged = "rule_changed";
}
