using ApprovalBot.Bot.Bus;
using ApprovalBot.Configuration;
using ApprovalBot.Gateway.Bus;
using MassTransit;
using MassTransit.UsageTracking;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ApprovalBot.Messaging;

/// <summary>
/// Picks the transport (in-memory or RabbitMQ) and lets each role add its own consumers and queues
/// (<see cref="GatewayBus"/>, <see cref="BotBus"/>; queue names in <see cref="Core.Contracts.BusQueues"/>).
/// </summary>
public static class BusSetup
{
    /// <param name="botInstance">This bot's id, as the bot's store knows it (its heartbeat queue is named after it).</param>
    public static IServiceCollection AddApprovalBus(this IServiceCollection services, ApprovalBotOptions options, string botInstance)
    {
        // MassTransit reports usage telemetry to its vendor unless told not to. Nothing leaves the
        // machine but calls to upstreams, the broker, Slack and Teams: the switch is off, and the
        // tracker is one that does nothing, so not even MASSTRANSIT_USAGE_TELEMETRY=true turns it on.
        services.TryAddSingleton<IUsageTracker, NoUsageTracker>();
        services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            if (options.RunsGateway)
            {
                x.AddGatewayConsumers();
            }

            if (options.RunsBot)
            {
                x.AddBotConsumers();
            }

            void ConfigureEndpoints(IBusRegistrationContext context, IBusFactoryConfigurator cfg, bool durableHeartbeats)
            {
                if (options.RunsGateway)
                {
                    cfg.ConfigureGatewayEndpoints(context);
                }

                if (options.RunsBot)
                {
                    cfg.ConfigureBotEndpoints(context, botInstance, e =>
                    {
                        if (e is IRabbitMqReceiveEndpointConfigurator rabbit && !durableHeartbeats)
                        {
                            rabbit.AutoDelete = true;
                            rabbit.Durable = false;
                        }
                    });
                }
            }

            if (options.Bus.Transport == "RabbitMq")
            {
                x.UsingRabbitMq((context, cfg) =>
                {
                    var rabbit = options.Bus.RabbitMq;
                    cfg.Host(rabbit.Host!, (ushort)rabbit.Port, rabbit.VirtualHost, h =>
                    {
                        h.Username(rabbit.Username);
                        h.Password(rabbit.Password);
                    });
                    ConfigureEndpoints(context, cfg, durableHeartbeats: false);
                });
            }
            else
            {
                x.UsingInMemory((context, cfg) => ConfigureEndpoints(context, cfg, durableHeartbeats: true));
            }
        });
        return services;
    }
}

/// <summary>Collects nothing and sends nothing.</summary>
internal sealed class NoUsageTracker : IUsageTracker
{
    public void PreConfigureBus<T>(T configurator, IBusRegistrationContext context)
        where T : IBusFactoryConfigurator
    {
    }

    public void PreConfigureRider<T>(T configurator)
        where T : IRiderFactoryConfigurator
    {
    }
}
