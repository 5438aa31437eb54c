using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Approvals;

/// <summary>The bot's read model of one approval: the request as published plus what became of it.</summary>
/// <param name="AgentWaiting">
/// While pending: whether a call of the agent is held open for it (true from the start, as the
/// gateway holds the first call), or the agent will collect it on its next call.
/// </param>
/// <param name="CollectBy">
/// Approved while nobody waited: the call runs when the agent calls again, until this time; then it lapses.
/// </param>
/// <param name="GrantId">Approved for a while: the grant it gave.</param>
/// <param name="GrantUntil">When that grant ends (unless revoked earlier).</param>
/// <param name="EditedArguments">Approved with changed arguments: what runs (JSON, secrets masked).</param>
/// <param name="EscalatedAt">Still pending after the rule's <c>escalate.after</c>: when <paramref name="EscalatedTo"/> were told.</param>
public sealed record ApprovalView(
    ApprovalRequested Request,
    ApprovalStatus Status,
    Approver? DecidedBy,
    string? Comment,
    DateTimeOffset? ResolvedAt,
    bool? Succeeded = null,
    string? ExecutionSummary = null,
    bool AgentWaiting = true,
    DateTimeOffset? CollectBy = null,
    Guid? GrantId = null,
    DateTimeOffset? GrantUntil = null,
    string? EditedArguments = null,
    DateTimeOffset? EscalatedAt = null,
    IReadOnlyList<string>? EscalatedTo = null)
{
    public Guid Id => Request.ApprovalId;

    /// <summary>Approved, not run yet, and waiting for the agent to come back for it.</summary>
    public bool AwaitsCollection => Status == ApprovalStatus.Approved && Succeeded is null && CollectBy is not null;

    /// <summary>
    /// Whether a card drawn from <paramref name="other"/> shows the same as one drawn from this view
    /// (the request itself never changes), so a channel can tell that its card went stale.
    /// </summary>
    public bool ShowsSameAs(ApprovalView other) =>
        Status == other.Status
        && DecidedBy == other.DecidedBy
        && Comment == other.Comment
        && Succeeded == other.Succeeded
        && ExecutionSummary == other.ExecutionSummary
        && AgentWaiting == other.AgentWaiting
        && CollectBy == other.CollectBy
        && GrantUntil == other.GrantUntil
        && EditedArguments == other.EditedArguments
        && EscalatedAt == other.EscalatedAt;
}

/// <summary>A click or API call asking to decide an approval.</summary>
/// <param name="Withdraw">Withdraw the request instead of deciding it (ends as Cancelled); <paramref name="Approve"/> is then false.</param>
/// <param name="Grant">Approve for a while: one of the durations the request offers (e.g. <c>1h</c>); null approves once.</param>
/// <param name="EditedArguments">Edit, then approve: the arguments as the approver changed them (a JSON object; masked values left masked).</param>
public sealed record DecisionCommand(
    Guid ApprovalId, bool Approve, Approver Approver, string? Comment, string Channel, bool Withdraw = false, string? Grant = null, string? EditedArguments = null);
