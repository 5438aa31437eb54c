using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Upstreams;
using ApprovalBot.Gateway.Webhooks;
using MassTransit;

namespace ApprovalBot.Health;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: bus connected, policy loaded, the start-up catalogue complete, every upstream connected and answering pings; webhook delivery state is shown beside.</summary>
public static class HealthEndpoints
{
    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Json(new { status = "alive" }));
        app.MapGet("/readyz", async (IServiceProvider services, CancellationToken ct) =>
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
            // Shown, never counted against readiness: a receiver being down must not take the gateway
            // out of a load balancer (webhooks never block or change a call; the outbox keeps the events).
            var webhooks = services.GetService<WebhookHealthReport>() is { } report
                ? (await report.GetAsync(ct)).Select(w => new
                {
                    name = w.Name,
                    state = w.Failing ? "failing" : "ok",
                    waiting = w.Waiting,
                    givenUp = w.GivenUp,
                    lastError = w.LastError,
                    oldestWaitingSince = w.OldestWaitingSince,
                    lastDeliveredAt = w.LastDeliveredAt,
                }).ToList()
                : null;
            var ready = busReady && (registry is null || (registry.CatalogComplete && upstreams!.All(u => u.connected && u.responsive)));
            return Results.Json(
                new
                {
                    status = ready ? "ready" : "not_ready",
                    bus = new { ready = busReady, status = bus?.Status.ToString() ?? "none", description = bus?.Description },
                    policy = policy is null ? null : new { loaded = true, summary = policy.State.Policy.Summary, loadedAt = policy.State.LoadedAt, lastError = policy.State.LastError, path = policy.FilePath },
                    upstreams,
                    catalogue,
                    webhooks,
                },
                statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        return app;
    }
}
