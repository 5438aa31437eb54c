using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
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
        });
    }
}
