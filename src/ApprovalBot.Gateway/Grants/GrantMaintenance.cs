using System.Threading.Channels;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Policies;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Grants;

/// <summary>
/// At start: ends grants whose rule the policy no longer has (or has changed: the file may have been
/// edited while the gateway was down) and republishes what was never published. Then: after every
/// policy reload the same check; on a timer, expired grants are ended and publishing is retried.
/// </summary>
public sealed partial class GrantMaintenance(
    GrantLifecycle grants,
    PolicyStore policies,
    ApprovalOptions options,
    TimeProvider time,
    ILogger<GrantMaintenance> logger) : BackgroundService
{
    private static readonly TimeSpan RepublishEvery = TimeSpan.FromSeconds(30);

    private readonly Channel<Policy> _reloads = Channel.CreateUnbounded<Policy>(new UnboundedChannelOptions { SingleReader = true });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Subscribed before the first check, so a reload during start-up is not missed (checking twice is harmless).
        policies.Reloaded += OnReloaded;
        var reconcile = Task.CompletedTask;
        try
        {
            await RunStepAsync(ct => grants.ReconcileAsync(policies.Current, ct), stoppingToken);
            await RunStepAsync(grants.RepublishAsync, stoppingToken);
            reconcile = ReconcileOnReloadAsync(stoppingToken);
            using var timer = new PeriodicTimer(options.SweepInterval > TimeSpan.Zero ? options.SweepInterval : TimeSpan.FromSeconds(1), time);
            var lastRepublish = time.GetTimestamp();
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunStepAsync(grants.SweepAsync, stoppingToken);
                if (time.GetElapsedTime(lastRepublish) >= RepublishEvery)
                {
                    lastRepublish = time.GetTimestamp();
                    await RunStepAsync(grants.RepublishAsync, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            policies.Reloaded -= OnReloaded;
            _reloads.Writer.TryComplete();
            await reconcile.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private void OnReloaded(PolicyState state) => _reloads.Writer.TryWrite(state.Policy);

    private async Task ReconcileOnReloadAsync(CancellationToken stoppingToken)
    {
        await foreach (var policy in _reloads.Reader.ReadAllAsync(stoppingToken))
        {
            await RunStepAsync(ct => grants.ReconcileAsync(policy, ct), stoppingToken);
        }
    }

    private Task RunStepAsync(Func<CancellationToken, Task> step, CancellationToken stoppingToken) =>
        MaintenanceStep.RunAsync(step, reason => LogMaintenanceFailed(logger, reason), stoppingToken);

    [LoggerMessage(EventName = "GrantMaintenanceFailed", Level = LogLevel.Warning, Message = "Grant maintenance step failed (will retry): {Reason}")]
    private static partial void LogMaintenanceFailed(ILogger logger, string reason);
}
