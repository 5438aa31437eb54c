using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Grants;

/// <summary>
/// Sends a revocation to the gateway that owns the grant (its address travels in GrantCreated) and
/// waits briefly for its answer, so the person who asked learns at once whether it worked. Refuses
/// early who may not revoke; the gateway checks again.
/// </summary>
internal sealed class BusGrantCommands(IBus bus, IGrantReadModel readModel, TimeProvider time, ILogger<BusGrantCommands> logger) : IGrantCommands
{
    private static readonly RequestTimeout AnswerTimeout = RequestTimeout.After(s: 10);

    public async Task<GrantRevokeOutcome> RevokeAsync(GrantRevokeCommand command, CancellationToken cancellationToken)
    {
        var view = await readModel.GetGrantAsync(command.GrantId, cancellationToken);
        if (view is null)
        {
            return new(command.GrantId, false, $"No grant {command.GrantId} is known here.");
        }

        if (!MayRevoke(view, command.By))
        {
            return new(command.GrantId, false, $"{command.By.DisplayName} may not revoke this grant: only whoever gave it or an approver of {view.Grant.Tool} may.");
        }

        var client = bus.CreateRequestClient<GrantRevoke>(view.Grant.GatewayAddress, AnswerTimeout);
        try
        {
            var response = await client.GetResponse<GrantRevokeOutcome>(
                new GrantRevoke(command.GrantId, Guid.NewGuid(), command.By, command.Comment, command.Channel, time.GetUtcNow()), cancellationToken);
            GrantsLog.RevokeAnswered(logger, command.GrantId, command.By.Principal, response.Message.Accepted);
            return response.Message;
        }
        catch (RequestTimeoutException)
        {
            GrantsLog.RevokeUnanswered(logger, command.GrantId, view.Grant.GatewayInstance);
            return new(command.GrantId, false, $"Gateway {view.Grant.GatewayInstance} did not answer in time; the revocation may still apply when it does.");
        }
    }

    /// <summary>The grantor, or one of the rule's approvers (any authenticated user when it names none).</summary>
    public static bool MayRevoke(GrantView view, Approver by) =>
        string.Equals(view.Grant.GrantedBy.Principal, by.Principal, StringComparison.Ordinal) || ApprovalJudge.MayDecide(view.Grant.Revokers, by);
}
