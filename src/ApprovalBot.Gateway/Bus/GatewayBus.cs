using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Storage;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace ApprovalBot.Gateway.Bus;

/// <summary>The gateway's part of the bus: its consumers on its own queue (decisions, card posts, grant revocations). The host picks the transport.</summary>
public static class GatewayBus
{
    public static void AddGatewayConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ApprovalDecisionConsumer>();
        bus.AddConsumer<ApprovalCardPostedConsumer>();
        bus.AddConsumer<GrantRevokeConsumer>();
        bus.AddConsumer<ApprovalStateChangedConsumer>();
    }

    public static void ConfigureGatewayEndpoints(this IBusFactoryConfigurator bus, IBusRegistrationContext context)
    {
        var instance = context.GetRequiredService<GatewayInstance>();
        bus.ReceiveEndpoint(BusQueues.Gateway(instance.Id), e =>
        {
            e.ConfigureConsumer<ApprovalDecisionConsumer>(context);
            // Card posts for the timeline, addressed like decisions (the approval's owning gateway).
            e.ConfigureConsumer<ApprovalCardPostedConsumer>(context);
            e.ConfigureConsumer<GrantRevokeConsumer>(context);
            // Published by whichever replica applied a decision: every replica's own queue gets a copy.
            e.ConfigureConsumer<ApprovalStateChangedConsumer>(context);
        });

        if (context.GetRequiredService<GatewayStore>().Shared)
        {
            // Replicas share the database: any live one applies a decision, a card post or a revocation
            // (competing consumers), so none is lost with the replica that opened the approval.
            bus.ReceiveEndpoint(BusQueues.GatewayShared, e =>
            {
                // Sent, never published, to this queue: no exchange bindings (which would also copy them here).
                e.ConfigureConsumeTopology = false;
                e.ConfigureConsumer<ApprovalDecisionConsumer>(context);
                e.ConfigureConsumer<ApprovalCardPostedConsumer>(context);
                e.ConfigureConsumer<GrantRevokeConsumer>(context);
            });
        }
    }
}
