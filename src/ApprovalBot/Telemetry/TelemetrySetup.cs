using ApprovalBot.Configuration;
using ApprovalBot.Gateway.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ApprovalBot.Telemetry;

/// <summary>
/// OpenTelemetry over the gateway's Meter/ActivitySource, ASP.NET Core and MassTransit (whose spans
/// carry the trace from the agent's call through the bus to the bot and back). Nothing is
/// exported unless configured: Prometheus at /metrics, and/or OTLP.
/// </summary>
public static class TelemetrySetup
{
    public static IServiceCollection AddApprovalBotTelemetry(this IServiceCollection services, TelemetryOptions options)
    {
        if (!options.Prometheus && string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            return services;
        }

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("approvalbot", serviceVersion: Gateway.Instance.GatewayInfo.Version))
            .WithMetrics(m =>
            {
                m.AddMeter(GatewayTelemetry.Name, "MassTransit").AddAspNetCoreInstrumentation();
                if (options.Prometheus)
                {
                    m.AddPrometheusExporter();
                }

                if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
                {
                    m.AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint));
                }
            });
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            otel.WithTracing(t => t
                .AddSource(GatewayTelemetry.Name, "MassTransit")
                .AddAspNetCoreInstrumentation()
                .AddOtlpExporter(o => o.Endpoint = new Uri(options.OtlpEndpoint)));
        }

        return services;
    }

    public static WebApplication MapApprovalBotTelemetry(this WebApplication app, TelemetryOptions options)
    {
        if (options.Prometheus)
        {
            app.MapPrometheusScrapingEndpoint("/metrics");
        }

        return app;
    }
}
