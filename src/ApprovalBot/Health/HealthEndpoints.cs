using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Upstreams;
using MassTransit;

namespace ApprovalBot.Health;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: bus connected, policy loaded, the start-up catalogue complete, every upstream connected and answering pings.</summary>
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
            var registry = services.GetService<UpstreamRegistry>();
            var upstreams = registry?.Connections
                .Select(c => new
                {
                    name = c.Name,
                    state = c.State.ToString().ToLowerInvariant(),
                    connected = c.Connected,
                    responsive = c.Responsive,
                    tools = c.Lists.Tools.Count,
                    error = c.Problem,
                    restarts = c.Restarts,
                })
                .ToList();
            // Collisions are shown but do not fail readiness: the kept tools work, and pulling the
            // gateway out of a load balancer would take every other tool down with them.
            var catalogue = registry is null ? null : new
            {
                complete = registry.CatalogComplete,
                tools = registry.Catalog.Tools.Count,
                collisions = registry.Catalog.Collisions
                    .Select(c => new { kind = c.Kind, name = c.Name, kept = c.Kept, refused = c.Refused, message = c.Describe() })
                    .ToList(),
            };
            var ready = busReady && (registry is null || (registry.CatalogComplete && upstreams!.All(u => u.connected && u.responsive)));
            return Results.Json(
                new
                {
                    status = ready ? "ready" : "not_ready",
                    bus = new { ready = busReady, status = bus?.Status.ToString() ?? "none", description = bus?.Description },
                    policy = policy is null ? null : new { loaded = true, summary = policy.State.Policy.Summary, loadedAt = policy.State.LoadedAt, lastError = policy.State.LastError, path = policy.FilePath },
                    upstreams,
                    catalogue,
                },
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}
