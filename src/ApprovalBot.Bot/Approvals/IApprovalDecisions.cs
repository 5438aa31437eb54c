using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Approvals;

/// <summary>
/// Sends a decision to the gateway that owns the approval and returns its answer
/// ("Approved by …", "Already denied by …", "not an approver …"). Channels call only this.
/// </summary>
public interface IApprovalDecisions
{
    Task<ApprovalDecisionOutcome> DecideAsync(DecisionCommand command, CancellationToken cancellationToken);
}
