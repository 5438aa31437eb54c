using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Bot.Approvals;

internal interface IApprovalReadModel
{
    Task<ApprovalView?> GetAsync(Guid approvalId, CancellationToken cancellationToken);

    /// <summary>Oldest first; <paramref name="status"/> null for all.</summary>
    Task<IReadOnlyList<ApprovalView>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken);
}
