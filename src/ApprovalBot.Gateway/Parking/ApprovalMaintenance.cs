using ApprovalBot.Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Parking;

/// <summary>
/// At start: cancels approvals whose calls died with the previous process and republishes what
/// was never published. Then, on a timer: expires overdue approvals and retries publishing.
/// </summary>
public sealed partial class ApprovalMaintenance(ApprovalLifecycle lifecycle, ApprovalOptions options, TimeProvider time, ILogger<ApprovalMaintenance> logger) : BackgroundService
{
    private static readonly TimeSpan RepublishEvery = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RunStepAsync(lifecycle.RecoverAfterRestartAsync, stoppingToken);
        // A failed publish (the broker still connecting at start-up, or down) is retried soon, backing
        // off to the regular interval while it keeps failing; otherwise every RepublishEvery. Counted
        // from before the first republish, so its failure (the broker not up yet) is retried soon too.
        var failuresSeen = lifecycle.PublishFailures;
        await RunStepAsync(lifecycle.RepublishAsync, stoppingToken);
        using var timer = new PeriodicTimer(options.SweepInterval > TimeSpan.Zero ? options.SweepInterval : TimeSpan.FromSeconds(1), time);
        var lastRepublish = time.GetTimestamp();
        var wait = RepublishEvery;
        var retry = FirstRetry;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunStepAsync(lifecycle.SweepAsync, stoppingToken);
                if (lifecycle.PublishFailures != failuresSeen)
                {
                    failuresSeen = lifecycle.PublishFailures;
                    wait = retry;
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, RepublishEvery.Ticks));
                }

                if (time.GetElapsedTime(lastRepublish) >= wait)
                {
                    lastRepublish = time.GetTimestamp();
                    await RunStepAsync(lifecycle.RepublishAsync, stoppingToken);
                    if (lifecycle.PublishFailures == failuresSeen)
                    {
                        // Everything went out: back to the regular interval and a quick first retry.
                        wait = RepublishEvery;
                        retry = FirstRetry;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private Task RunStepAsync(Func<CancellationToken, Task> step, CancellationToken stoppingToken) =>
        MaintenanceStep.RunAsync(step, reason => LogMaintenanceFailed(logger, reason), stoppingToken);

    [LoggerMessage(EventName = "ApprovalMaintenanceFailed", Level = LogLevel.Warning, Message = "Approval maintenance step failed (will retry): {Reason}")]
    private static partial void LogMaintenanceFailed(ILogger logger, string reason);
}
