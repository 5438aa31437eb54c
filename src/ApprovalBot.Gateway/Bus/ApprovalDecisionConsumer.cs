using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Parking;
using MassTransit;

namespace ApprovalBot.Gateway.Bus;

/// <summary>
/// Receives decisions on this gateway's own queue (the bots address it from ApprovalRequested)
/// and answers the bot with the outcome. Idempotent: a redelivered decision changes nothing.
/// </summary>
public sealed class ApprovalDecisionConsumer(ApprovalLifecycle lifecycle) : IConsumer<ApprovalDecision>
{
    public async Task Consume(ConsumeContext<ApprovalDecision> context)
    {
        var outcome = await lifecycle.DecideAsync(context.Message, context.CancellationToken);
        if (context.ResponseAddress is not null || context.RequestId is not null)
        {
            await context.RespondAsync(outcome);
        }
    }
}
