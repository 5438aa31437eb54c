using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Upstreams;
using MassTransit;

namespace ApprovalBot.Health;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: bus connected, policy loaded, every upstream connected.</summary>
public static class HealthEndpoints
{
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Json(new { status = "alive" }));
        app.MapGet("/readyz", (IServiceProvider services) =>
        {
            var bus = services.GetService<IBusControl>()?.CheckHealth();
            var busReady = bus?.Status == BusHealthStatus.Healthy;
            var policy = services.GetService<PolicyStore>();
            var upstreams = services.GetService<UpstreamRegistry>()?.Connections
                .Select(c => new { name = c.Name, connected = c.Connected, tools = c.Lists.Tools.Count, error = c.LastError, restarts = c.Restarts })
                .ToList();
            var ready = busReady && (upstreams is null || upstreams.All(u => u.connected));
            return Results.Json(
                new
                {
                    status = ready ? "ready" : "not_ready",
                    bus = new { ready = busReady, status = bus?.Status.ToString() ?? "none", description = bus?.Description },
                    policy = policy is null ? null : new { loaded = true, summary = policy.State.Policy.Summary, loadedAt = policy.State.LoadedAt, lastError = policy.State.LastError, path = policy.FilePath },
                    upstreams,
                },
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}
