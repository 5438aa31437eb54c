using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Contracts;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace ApprovalBot.Bot.Bus;

/// <summary>The bot's part of the bus: approval events on the shared bot queue, heartbeats on its own. The host picks the transport.</summary>
public static class BotBus
{
    public static void AddBotConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ApprovalEventsConsumer>();
        bus.AddConsumer<GrantEventsConsumer>();
    }

    /// <param name="heartbeatQueue">Transport settings for this bot's own heartbeat queue (on RabbitMQ it goes away with the bot).</param>
    public static void ConfigureBotEndpoints(this IBusFactoryConfigurator bus, IBusRegistrationContext context, string botInstance, Action<IReceiveEndpointConfigurator> heartbeatQueue)
    {
        bus.ReceiveEndpoint(BusQueues.Bot, e =>
        {
            // Resolved, Voted or Waiting may overtake Requested (and Lapsed Resolved): retry until the
            // read model has what the message follows. ApprovalEventsConsumer takes every approval event.
            // A posting claimed by another replica that may have died: tried again until past BotStore.PostingLease.
            e.UseMessageRetry(r =>
            {
                r.Handle<CardPostingInProgressException>();
                r.Intervals(TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60));
            });
            e.UseMessageRetry(r =>
            {
                r.Ignore<CardPostingInProgressException>();
                r.Intervals(100, 250, 500, 1000, 2000, 5000);
            });
            e.ConfigureConsumer<ApprovalEventsConsumer>(context);
            e.ConfigureConsumer<GrantEventsConsumer>(context);
        });
        bus.ReceiveEndpoint(BusQueues.BotHeartbeats(botInstance), e =>
        {
            heartbeatQueue(e);
            e.Instance(context.GetRequiredService<HeartbeatTracker>());
        });
    }
}
