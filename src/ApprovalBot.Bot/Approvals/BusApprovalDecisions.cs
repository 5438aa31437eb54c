using ApprovalBot.Core.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Approvals;

/// <summary>
/// Sends a decision to the gateway that owns the approval (its address travels in
/// ApprovalRequested) and waits briefly for its verdict, so the person who clicked learns
/// at once whether it counted.
/// </summary>
internal sealed class BusApprovalDecisions(IBus bus, IApprovalReadModel readModel, TimeProvider time, ILogger<BusApprovalDecisions> logger) : IApprovalDecisions
{
    private static readonly RequestTimeout AnswerTimeout = RequestTimeout.After(s: 10);

    public async Task<ApprovalDecisionOutcome> DecideAsync(DecisionCommand command, CancellationToken cancellationToken)
    {
        var view = await readModel.GetAsync(command.ApprovalId, cancellationToken);
        if (view is null)
        {
            return new(command.ApprovalId, false, "Unknown", $"No approval {command.ApprovalId} is known here.");
        }

        var decision = new ApprovalDecision(
            command.ApprovalId, Guid.NewGuid(), command.Approve && !command.Withdraw, command.Approver, command.Comment, time.GetUtcNow(), command.Channel, command.Withdraw,
            command.Approve && !command.Withdraw ? command.Grant : null);
        var client = bus.CreateRequestClient<ApprovalDecision>(view.Request.GatewayAddress, AnswerTimeout);
        try
        {
            var response = await client.GetResponse<ApprovalDecisionOutcome>(decision, cancellationToken);
            ApprovalsLog.DecisionAnswered(logger, command.ApprovalId, command.Approver.Principal, response.Message.Status);
            return response.Message;
        }
        catch (RequestTimeoutException)
        {
            ApprovalsLog.DecisionUnanswered(logger, command.ApprovalId, view.Request.GatewayInstance);
            return new(command.ApprovalId, false, view.Status.ToString(), $"Gateway {view.Request.GatewayInstance} did not answer in time; the decision may still apply when it does.");
        }
    }
}
