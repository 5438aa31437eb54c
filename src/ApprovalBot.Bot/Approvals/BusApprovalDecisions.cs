using ApprovalBot.Core.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Approvals;

/// <summary>
/// Sends a decision to the gateway that owns the approval (its address travels in
/// ApprovalRequested) and waits briefly for its verdict, so the person who clicked learns
/// at once whether it counted.
/// </summary>
public sealed partial class BusApprovalDecisions(IBus bus, IApprovalReadModel readModel, TimeProvider time, ILogger<BusApprovalDecisions> logger) : IApprovalDecisions
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
            command.ApprovalId, Guid.NewGuid(), command.Approve && !command.Withdraw, command.Approver, command.Comment, time.GetUtcNow(), command.Channel, command.Withdraw);
        var client = bus.CreateRequestClient<ApprovalDecision>(view.Request.GatewayAddress, AnswerTimeout);
        try
        {
            var response = await client.GetResponse<ApprovalDecisionOutcome>(decision, cancellationToken);
            LogDecisionAnswered(logger, command.ApprovalId, command.Approver.Principal, response.Message.Status);
            return response.Message;
        }
        catch (RequestTimeoutException)
        {
            LogDecisionUnanswered(logger, command.ApprovalId, view.Request.GatewayInstance);
            return new(command.ApprovalId, false, view.Status.ToString(), $"Gateway {view.Request.GatewayInstance} did not answer in time; the decision may still apply when it does.");
        }
    }

    [LoggerMessage(EventName = "DecisionAnswered", Level = LogLevel.Information, Message = "Decision on {ApprovalId} by {Principal} answered: {Status}")]
    private static partial void LogDecisionAnswered(ILogger logger, Guid approvalId, string principal, string status);

    [LoggerMessage(EventName = "DecisionUnanswered", Level = LogLevel.Warning, Message = "Decision on {ApprovalId} got no answer from gateway {Gateway}")]
    private static partial void LogDecisionUnanswered(ILogger logger, Guid approvalId, string gateway);
}
