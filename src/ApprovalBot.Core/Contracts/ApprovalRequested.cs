namespace ApprovalBot.Core.Contracts;

/// <summary>Published by the owning gateway once the approval is stored; every bot shows it.</summary>
/// <param name="RedactedArguments">The call's arguments as JSON text with credential-like values replaced.</param>
/// <param name="ArgumentDigest">Keyed digest of the exact arguments; lets an approver compare two requests.</param>
/// <param name="Approvers">Principals allowed to decide (groups expanded); empty means any authenticated channel user.</param>
/// <param name="GatewayAddress">The owning gateway's own endpoint: decisions are sent there.</param>
/// <param name="Grants">The durations an approver may approve for (policy spelling, e.g. <c>1h</c>); null or empty: approve once only.</param>
/// <param name="Editable">Whether an approver may change the arguments before approving (the rule's <c>editable</c>; false from gateways that cannot).</param>
/// <param name="GrantScope">What a grant covers: <c>tool</c> (every later call of the agent to the tool) or <c>arguments</c> (only the same arguments).</param>
public sealed record ApprovalRequested(
    Guid ApprovalId,
    string Tool,
    string Upstream,
    string Agent,
    string RedactedArguments,
    string ArgumentDigest,
    string? Reason,
    IReadOnlyList<string> Approvers,
    int ApprovalsRequired,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    Uri GatewayAddress,
    string GatewayInstance,
    IReadOnlyList<string>? Grants = null,
    string? GrantScope = null,
    bool Editable = false);
