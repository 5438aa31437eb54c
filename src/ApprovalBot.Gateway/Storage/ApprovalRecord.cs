using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Gateway.Storage;

/// <summary>An approval as the gateway stores it (arguments only in redacted form).</summary>
public sealed record ApprovalRecord(
    Guid Id,
    string Tool,
    string Upstream,
    string Agent,
    string ArgumentsRedacted,
    string Digest,
    string? Reason,
    string Rule,
    IReadOnlyList<string> Approvers,
    int ApprovalsRequired,
    IReadOnlyList<string> ApprovedBy,
    ApprovalStatus Status,
    string WaitMode,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    string? DecidedBy,
    string? DecidedByName,
    string? DecidedChannel,
    string? Comment,
    DateTimeOffset? ResolvedAt,
    string Instance,
    DateTimeOffset? ClaimedAt = null)
{
    public ApprovalSnapshot ToSnapshot() =>
        new(Id, Tool, Status, Approvers, ApprovalsRequired, ApprovedBy, ExpiresAt, DecidedByName ?? (Status == ApprovalStatus.Expired ? "timeout" : null));
}
