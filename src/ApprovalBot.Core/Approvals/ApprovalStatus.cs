namespace ApprovalBot.Core.Approvals;

/// <summary>
/// Pending → Approved → Executed | ExecutionFailed | Lapsed; Pending → Denied | Expired | Cancelled.
/// Stored by name, so the names are part of the database and bus format.
/// </summary>
public enum ApprovalStatus
{
    Pending,
    Approved,
    Executed,
    ExecutionFailed,
    Denied,
    Expired,
    Cancelled,

    /// <summary>Approved, but the agent never came back for it within the redeem window: nothing ran.</summary>
    Lapsed,
}

public static class ApprovalStatusRules
{
    public static bool CanMove(ApprovalStatus from, ApprovalStatus to) => (from, to) switch
    {
        (ApprovalStatus.Pending, ApprovalStatus.Approved or ApprovalStatus.Denied or ApprovalStatus.Expired or ApprovalStatus.Cancelled) => true,
        (ApprovalStatus.Approved, ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed or ApprovalStatus.Lapsed) => true,
        _ => false,
    };
}
