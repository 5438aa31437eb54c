namespace ApprovalBot.Core.Contracts;

/// <summary>Published when an approval leaves Pending, so every card of it, on every channel, shows the end state.</summary>
/// <param name="Status">Approved, Denied, Expired or Cancelled.</param>
/// <param name="By">Who decided; null for expiry and cancellation.</param>
/// <param name="CollectBy">
/// Approved while no call of the agent was waiting: the call runs when the agent calls again, until
/// this time (then it lapses). Null when a waiting call runs it at once, and for every other status.
/// </param>
/// <param name="EditedArguments">Approved with changed arguments: what runs, as JSON with secrets masked.</param>
/// <param name="GrantUntil">Approved for a while: later calls of the agent to the tool run without a card until then (unless revoked).</param>
public sealed record ApprovalResolved(
    Guid ApprovalId,
    string Status,
    Approver? By,
    string? Comment,
    DateTimeOffset ResolvedAt,
    DateTimeOffset? CollectBy = null,
    Guid? GrantId = null,
    DateTimeOffset? GrantUntil = null,
    string? EditedArguments = null);

/// <summary>
/// Published when a pending approval gains its first waiting call or loses its last one, so cards
/// can say "agent waiting" or "the agent will collect this on its next call". Best effort:
/// <paramref name="At"/> orders them, a lost one leaves the hint stale, never the outcome wrong.
/// </summary>
public sealed record ApprovalWaiting(
    Guid ApprovalId,
    bool AgentWaiting,
    DateTimeOffset At);

/// <summary>
/// Gateway to gateway (replicas sharing one database): an approval left Pending on <paramref name="Instance"/>.
/// Every replica hears it on its own queue; one holding calls for the approval re-reads it from the
/// database and releases them, as if it had applied the decision itself. Bots ignore it.
/// </summary>
public sealed record ApprovalStateChanged(
    Guid ApprovalId,
    string Status,
    string Instance,
    DateTimeOffset At);

/// <summary>Published when an approved call was never collected by the agent within the redeem window: nothing ran.</summary>
public sealed record ApprovalLapsed(
    Guid ApprovalId,
    DateTimeOffset LapsedAt);

/// <summary>Published after an approved call ran upstream: Executed or ExecutionFailed, with a short, redacted summary.</summary>
public sealed record ApprovalExecuted(
    Guid ApprovalId,
    bool Succeeded,
    string Summary,
    DateTimeOffset ExecutedAt);

/// <summary>
/// Published when an approval that needs several approvers got one more vote but is still Pending,
/// so the cards can show the progress ("1 of 2") and keep their buttons.
/// </summary>
public sealed record ApprovalVoted(
    Guid ApprovalId,
    Approver By,
    int Votes,
    int Required,
    DateTimeOffset VotedAt);

/// <summary>
/// Published when an approval was still pending after its rule's <c>escalate.after</c>: <paramref name="Added"/>
/// were told (and may decide: <paramref name="Approvers"/> is the approval's list now; empty = anyone).
/// </summary>
public sealed record ApprovalEscalated(
    Guid ApprovalId,
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Approvers,
    DateTimeOffset EscalatedAt);

/// <summary>Published once per approval when it is about to expire and nobody has decided.</summary>
public sealed record ApprovalReminder(
    Guid ApprovalId,
    DateTimeOffset ExpiresAt,
    DateTimeOffset At);
