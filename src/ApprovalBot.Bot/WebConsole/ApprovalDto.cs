namespace ApprovalBot.Bot.WebConsole;

/// <summary>What the console API returns per approval (arguments already redacted by the gateway).</summary>
/// <param name="AgentWaiting">While pending: a call of the agent is held open for it; false: the agent collects it on its next call.</param>
/// <param name="CollectBy">Approved while nobody waited: runs when the agent calls again, until then (else it lapses).</param>
/// <param name="State">One sentence for where it stands, as the cards say it ("Agent waiting", "Approved by X — runs when …").</param>
/// <param name="Grants">The durations it may be approved for (<c>"grant"</c> in the approve body); empty: approve once only.</param>
/// <param name="GrantUntil">Approved for a while: until when the grant it gave lets the agent's later calls through.</param>
/// <param name="Editable">Whether the arguments may be changed before approving (<c>"arguments"</c> in the approve body).</param>
/// <param name="EditedArguments">Approved with changed arguments: what runs (secrets masked).</param>
internal sealed record ApprovalDto(
    Guid Id,
    string Tool,
    string Upstream,
    string Agent,
    string Arguments,
    string? Reason,
    IReadOnlyList<string> Approvers,
    int ApprovalsRequired,
    string Status,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    string? DecidedBy,
    string? DecidedByPrincipal,
    string? Comment,
    DateTimeOffset? ResolvedAt,
    bool? Succeeded,
    string? ExecutionSummary,
    string Gateway,
    bool AgentWaiting,
    DateTimeOffset? CollectBy,
    string State,
    IReadOnlyList<string> Grants,
    string? GrantScope,
    Guid? GrantId,
    DateTimeOffset? GrantUntil,
    bool Editable,
    string? EditedArguments,
    DateTimeOffset? EscalatedAt,
    IReadOnlyList<string>? EscalatedTo);
