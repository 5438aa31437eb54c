namespace ApprovalBot.Core.Approvals;

/// <summary>
/// Pending → Approved → Executed | ExecutionFailed; Pending → Denied | Expired | Cancelled.
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
}

public static class ApprovalStatusRules
{
    public static bool CanMove(ApprovalStatus from, ApprovalStatus to) => (from, to) switch
    {
        (ApprovalStatus.Pending, ApprovalStatus.Approved or ApprovalStatus.Denied or ApprovalStatus.Expired or ApprovalStatus.Cancelled) => true,
        (ApprovalStatus.Approved, ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed) => true,
        _ => false,
    };
}
