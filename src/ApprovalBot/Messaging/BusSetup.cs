using System.Security.Cryptography;
using ApprovalBot.Bot.Bus;
using ApprovalBot.Bot.Status;
using ApprovalBot.Configuration;
using ApprovalBot.Gateway.Bus;
using ApprovalBot.Gateway.Parking;
using MassTransit;
using MassTransit.UsageTracking;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ApprovalBot.Messaging;

/// <summary>
/// MassTransit 8.5 (never 9.x: paid licence) over the in-memory transport or RabbitMQ. Queues:
/// <list type="bullet">
/// <item><c>approvalbot-gateway-{instance}</c>: decisions for the gateway that holds the call.</item>
/// <item><c>approvalbot-bot</c>: approval events, shared by bot instances (one posts each card).</item>
/// <item><c>approvalbot-bot-{instance}-heartbeats</c>: every bot hears every gateway's heartbeat.</item>
/// </list>
/// </summary>
public static class BusSetup
{
    public const string BotQueue = "approvalbot-bot";

    public static IServiceCollection AddApprovalBus(this IServiceCollection services, ApprovalBotOptions options)
    {
        var botInstance = options.Bus.BotInstanceId ?? $"{Environment.MachineName.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
        // MassTransit reports usage telemetry to its vendor unless told not to. Nothing leaves the
        // machine but calls to upstreams, the broker, Slack and Teams: the switch is off, and the
        // tracker is one that does nothing, so not even MASSTRANSIT_USAGE_TELEMETRY=true turns it on.
        services.TryAddSingleton<IUsageTracker, NoUsageTracker>();
        services.AddMassTransit(x =>
        {
            x.DisableUsageTelemetry();
            if (options.RunsGateway)
            {
                x.AddConsumer<ApprovalDecisionConsumer>();
            }

            if (options.RunsBot)
            {
                x.AddConsumer<ApprovalEventsConsumer>();
            }

            void ConfigureEndpoints(IBusRegistrationContext context, IBusFactoryConfigurator cfg, bool durableHeartbeats)
            {
                if (options.RunsGateway)
                {
                    var instance = context.GetRequiredService<GatewayInstance>();
                    cfg.ReceiveEndpoint(BusApprovalEvents.QueueName(instance.Id), e =>
                    {
                        e.ConfigureConsumer<ApprovalDecisionConsumer>(context);
                    });
                }

                if (options.RunsBot)
                {
                    cfg.ReceiveEndpoint(BotQueue, e =>
                    {
                        // Resolved, Voted or Waiting may overtake Requested (and Lapsed Resolved): retry until the
                        // read model has what the message follows. ApprovalEventsConsumer takes every approval event.
                        e.UseMessageRetry(r => r.Intervals(100, 250, 500, 1000, 2000, 5000));
                        e.ConfigureConsumer<ApprovalEventsConsumer>(context);
                    });
                    cfg.ReceiveEndpoint($"approvalbot-bot-{botInstance}-heartbeats", e =>
                    {
                        if (e is IRabbitMqReceiveEndpointConfigurator rabbit && !durableHeartbeats)
                        {
                            rabbit.AutoDelete = true;
                            rabbit.Durable = false;
                        }

                        e.Instance(context.GetRequiredService<HeartbeatTracker>());
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
