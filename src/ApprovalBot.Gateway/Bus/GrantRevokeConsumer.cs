using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Grants;
using MassTransit;

namespace ApprovalBot.Gateway.Bus;

/// <summary>
/// Receives grant revocations on this gateway's own queue (bots address it from GrantCreated) and
/// answers with the outcome. A redelivered revocation finds the grant ended and changes nothing.
/// </summary>
public sealed class GrantRevokeConsumer(GrantLifecycle grants) : IConsumer<GrantRevoke>
{
    public async Task Consume(ConsumeContext<GrantRevoke> context)
    {
        var outcome = await grants.RevokeAsync(context.Message, context.CancellationToken);
        if (context.ResponseAddress is not null || context.RequestId is not null)
        {
            await context.RespondAsync(outcome);
        }
    }
}
