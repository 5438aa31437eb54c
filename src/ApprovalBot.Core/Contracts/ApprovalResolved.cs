namespace ApprovalBot.Core.Contracts;

/// <summary>Published when an approval leaves Pending, so every card of it, on every channel, shows the end state.</summary>
/// <param name="Status">Approved, Denied, Expired or Cancelled.</param>
/// <param name="By">Who decided; null for expiry and cancellation.</param>
public sealed record ApprovalResolved(
    Guid ApprovalId,
    string Status,
    Approver? By,
    string? Comment,
    DateTimeOffset ResolvedAt);

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
