namespace ApprovalBot.Core.Contracts;

/// <summary>A person's approve/deny, sent by a bot to the gateway that owns the approval.</summary>
/// <param name="DecisionId">Unique per click; lets the gateway ignore a redelivered message.</param>
/// <param name="Channel">slack, teams or console: where the click happened.</param>
/// <param name="Withdraw">Withdraw the request instead of deciding it (ends as Cancelled); <paramref name="Approve"/> is then ignored.</param>
/// <param name="EditedArguments">
/// Edit, then approve: the arguments as the approver changed them (a JSON object, values shown as
/// <c>[redacted]</c> left as they are); null approves the arguments as asked.
/// </param>
/// <param name="Grant">Approve for a while: one of the durations the request offered (policy spelling, e.g. <c>1h</c>); null approves once.</param>
public sealed record ApprovalDecision(
    Guid ApprovalId,
    Guid DecisionId,
    bool Approve,
    Approver Approver,
    string? Comment,
    DateTimeOffset DecidedAt,
    string Channel,
    bool Withdraw = false,
    string? Grant = null,
    string? EditedArguments = null);

/// <summary>The gateway's answer to an <see cref="ApprovalDecision"/> (request/response over the bus).</summary>
/// <param name="Accepted">True when the decision changed the approval (or counted toward a quorum).</param>
/// <param name="Status">The approval's status after the decision.</param>
/// <param name="Message">A sentence to show the person who clicked.</param>
/// <param name="GrantId">The grant the approval gave, when it was approved for a while.</param>
/// <param name="GrantUntil">When that grant ends.</param>
public sealed record ApprovalDecisionOutcome(
    Guid ApprovalId,
    bool Accepted,
    string Status,
    string Message,
    Guid? GrantId = null,
    DateTimeOffset? GrantUntil = null);
