using ApprovalBot.Bot.Grants;
using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Bus;

/// <summary>
/// Keeps the bot's read model of grants (console <c>/api/grants</c>, <c>/policy grants</c>, status) in
/// step with the gateways. Idempotent: a redelivered message changes nothing; an end that overtakes
/// its creation is retried by the bus.
/// </summary>
internal sealed class GrantEventsConsumer(BotStore store, ILogger<GrantEventsConsumer> logger) : IConsumer<GrantCreated>, IConsumer<GrantEnded>
{
    public async Task Consume(ConsumeContext<GrantCreated> context)
    {
        var grant = context.Message;
        if (await store.AddGrantAsync(grant, context.CancellationToken))
        {
            GrantsLog.GrantRecorded(logger, grant.GrantId, grant.Tool, grant.Agent, grant.ExpiresAt);
        }
    }

    public async Task Consume(ConsumeContext<GrantEnded> context)
    {
        var change = await store.EndGrantAsync(context.Message, context.CancellationToken);
        if (change == ReadModelChange.NotYetKnown)
        {
            throw new GrantNotYetKnownException(context.Message.GrantId);
        }

        if (change == ReadModelChange.Changed)
        {
            GrantsLog.GrantEndRecorded(logger, context.Message.GrantId, context.Message.Reason);
        }
    }
}

internal sealed class GrantNotYetKnownException(Guid grantId)
    : Exception($"Grant {grantId} is not in the read model yet.");
