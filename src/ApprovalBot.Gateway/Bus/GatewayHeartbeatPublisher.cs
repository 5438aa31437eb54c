using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Telemetry;
using ApprovalBot.Gateway.Upstreams;
using ApprovalBot.Gateway.Webhooks;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Bus;

/// <summary>Tells the bots, every few seconds, that this gateway lives, what policy it runs and how its upstreams are.</summary>
public sealed partial class GatewayHeartbeatPublisher(
    IBus bus,
    GatewayInstance instance,
    PolicyStore policies,
    UpstreamRegistry upstreams,
    GatewayStore store,
    GatewayOptions options,
    GatewayTelemetry telemetry,
    TimeProvider time,
    ILogger<GatewayHeartbeatPublisher> logger,
    WebhookHealthReport? webhooks = null) : BackgroundService
{
    public async Task<GatewayHeartbeat> BuildAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var counts = await store.CountDecisionsSinceAsync(new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero), cancellationToken);
        int Count(params string[] names) => names.Sum(n => counts.TryGetValue(n, out var c) ? c : 0);
        var state = policies.State;
        var pending = await store.CountPendingAsync(null, cancellationToken);
        telemetry.PendingCount(pending);
        return new GatewayHeartbeat(
            instance.Id,
            GatewayInfo.Version,
            state.Policy.Summary + (state.LastError is null ? "" : " (last reload rejected)"),
            state.Policy.Default.ToWireName(),
            state.Policy.RuleCount,
            state.LoadedAt,
            // An upstream that does not answer pings is shown as down, with why, in /policy status.
            upstreams.Connections.Select(c => new UpstreamHealth(c.Name, c.Connected && c.Responsive, c.Lists.Tools.Count, c.Problem)).ToList(),
            pending,
            new DecisionCounts(Count("allowed"), Count("denied"), Count("rate_limited"), Count("held")),
            now,
            webhooks is null ? null : await webhooks.GetAsync(cancellationToken));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first heartbeat should show the upstreams as they are, not as "not connected yet".
        try
        {
            await upstreams.WaitForCatalogAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (Exception)
        {
            // The start-up catalogue was refused; the gateway is stopping.
            return;
        }

        using var timer = new PeriodicTimer(options.HeartbeatEvery, time);
        try
        {
            do
            {
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    timeout.CancelAfter(TimeSpan.FromSeconds(5));
                    await bus.Publish(await BuildAsync(timeout.Token), timeout.Token);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogHeartbeatFailed(logger, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the heartbeats end here.
        }
    }

    [LoggerMessage(EventName = "HeartbeatFailed", Level = LogLevel.Debug, Message = "Heartbeat not published: {Reason}")]
    private static partial void LogHeartbeatFailed(ILogger logger, string reason);
}
