using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Redaction;
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

        if (command.EditedArguments is { } edit && EditProblem(edit) is { } problem)
        {
            return new(command.ApprovalId, false, view.Status.ToString(), $"Edit refused: {problem}; nothing changed.");
        }

        var decision = new ApprovalDecision(
            command.ApprovalId, Guid.NewGuid(), command.Approve && !command.Withdraw, command.Approver, command.Comment, time.GetUtcNow(), command.Channel, command.Withdraw,
            command.Approve && !command.Withdraw ? command.Grant : null,
            command.Approve && !command.Withdraw ? command.EditedArguments : null);
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

    /// <summary>
    /// Checked before the edit travels: a JSON object, with nothing in it that looks like a secret
    /// (the gateway checks again, with the policy's own redaction rules). The checks are
    /// <see cref="ArgumentEdit.Check"/>; the wording is the bot's own (it names no path).
    /// </summary>
    internal static string? EditProblem(string edit) => ArgumentEdit.Check(edit, new SecretRedactor()) switch
    {
        null => null,
        { Refusal: ArgumentEditRefusal.NotJson, Detail: var message } => $"the edited arguments are not valid JSON ({message})",
        { Refusal: ArgumentEditRefusal.NotObject } => "the edited arguments must be a JSON object",
        _ => $"something in the edit looks like a secret; secrets cannot be entered in an edit (leave \"{SecretRedactor.Mask}\" where the card shows it)",
    };
}
