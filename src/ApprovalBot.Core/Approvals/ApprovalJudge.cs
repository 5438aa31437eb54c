using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Core.Approvals;

/// <summary>What the gateway knows of an approval when a decision arrives.</summary>
/// <param name="Approvers">Allowed principals; empty means any authenticated channel user.</param>
/// <param name="ApprovedBy">Principals whose approval already counted toward the quorum.</param>
/// <param name="DecidedBy">Display name of whoever moved it out of Pending, if anyone.</param>
public sealed record ApprovalSnapshot(
    Guid Id,
    string Tool,
    ApprovalStatus Status,
    IReadOnlyList<string> Approvers,
    int ApprovalsRequired,
    IReadOnlyList<string> ApprovedBy,
    DateTimeOffset ExpiresAt,
    string? DecidedBy);

public enum VerdictKind
{
    /// <summary>The person is not in the rule's approvers: refused, audited, nothing changes.</summary>
    NotAnApprover,
    /// <summary>Someone (or expiry) got there first.</summary>
    AlreadyDecided,
    /// <summary>Past the deadline although the sweeper has not marked it yet: treated as expired.</summary>
    Expired,
    /// <summary>This person's approval already counted toward the quorum.</summary>
    AlreadyCounted,
    /// <summary>Counted toward the quorum; more approvals are needed.</summary>
    Counted,
    Approved,
    Denied,
    /// <summary>Withdrawn on purpose (console, CLI, a card's Withdraw, tasks/cancel): ends as Cancelled.</summary>
    Withdrawn,
}

public sealed record Verdict(VerdictKind Kind, string Message);

/// <summary>
/// The pure decision rules of the lifecycle. The gateway applies the verdict with a conditional
/// UPDATE, so a race between two clicks still ends with exactly one winner.
/// </summary>
public static class ApprovalJudge
{
    public static bool MayDecide(IReadOnlyList<string> approvers, Approver approver) =>
        approvers.Count == 0
            ? !string.IsNullOrEmpty(approver.UserId)
            : approvers.Contains(approver.Principal, StringComparer.Ordinal);

    public static Verdict Judge(ApprovalSnapshot approval, ApprovalDecision decision, DateTimeOffset now)
    {
        if (!MayDecide(approval.Approvers, decision.Approver))
        {
            return new(VerdictKind.NotAnApprover, $"{decision.Approver.DisplayName} is not an approver for {approval.Tool}.");
        }

        if (approval.Status != ApprovalStatus.Pending)
        {
            var by = approval.DecidedBy is null ? "" : $" by {approval.DecidedBy}";
            return new(VerdictKind.AlreadyDecided, $"Already {Describe(approval.Status)}{by}.");
        }

        if (now >= approval.ExpiresAt)
        {
            return new(VerdictKind.Expired, "This approval has expired; nobody decided in time.");
        }

        if (decision.Withdraw)
        {
            return new(VerdictKind.Withdrawn, $"Withdrawn by {decision.Approver.DisplayName}.");
        }

        if (!decision.Approve)
        {
            return new(VerdictKind.Denied, $"Denied by {decision.Approver.DisplayName}.");
        }

        if (approval.ApprovedBy.Contains(decision.Approver.Principal, StringComparer.Ordinal))
        {
            return new(VerdictKind.AlreadyCounted, $"Your approval already counts; {approval.ApprovalsRequired - approval.ApprovedBy.Count} more needed.");
        }

        var count = approval.ApprovedBy.Count + 1;
        return count >= approval.ApprovalsRequired
            ? new(VerdictKind.Approved, $"Approved by {decision.Approver.DisplayName}.")
            : new(VerdictKind.Counted, $"Approval {count} of {approval.ApprovalsRequired} recorded; {approval.ApprovalsRequired - count} more needed.");
    }

    public static string Describe(ApprovalStatus status) => status switch
    {
        ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed or ApprovalStatus.Approved => "approved",
        ApprovalStatus.Denied => "denied",
        ApprovalStatus.Expired => "expired",
        ApprovalStatus.Cancelled => "cancelled",
        ApprovalStatus.Lapsed => "approved (never collected by the agent)",
        _ => "pending",
    };
}
