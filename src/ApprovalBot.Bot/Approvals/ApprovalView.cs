using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Approvals;

/// <summary>The bot's read model of one approval: the request as published plus what became of it.</summary>
public sealed record ApprovalView(
    ApprovalRequested Request,
    ApprovalStatus Status,
    Approver? DecidedBy,
    string? Comment,
    DateTimeOffset? ResolvedAt,
    bool? Succeeded = null,
    string? ExecutionSummary = null)
{
    public Guid Id => Request.ApprovalId;
}

/// <summary>A click or API call asking to decide an approval.</summary>
public sealed record DecisionCommand(Guid ApprovalId, bool Approve, Approver Approver, string? Comment, string Channel);
