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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RunStepAsync(lifecycle.RecoverAfterRestartAsync, stoppingToken);
        await RunStepAsync(lifecycle.RepublishAsync, stoppingToken);
        using var timer = new PeriodicTimer(options.SweepInterval > TimeSpan.Zero ? options.SweepInterval : TimeSpan.FromSeconds(1), time);
        var lastRepublish = time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunStepAsync(lifecycle.SweepAsync, stoppingToken);
                if (time.GetElapsedTime(lastRepublish) >= RepublishEvery)
                {
                    lastRepublish = time.GetTimestamp();
                    await RunStepAsync(lifecycle.RepublishAsync, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunStepAsync(Func<CancellationToken, Task> step, CancellationToken stoppingToken)
    {
        try
        {
            await step(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogMaintenanceFailed(logger, e.Message);
        }
    }

    [LoggerMessage(EventName = "ApprovalMaintenanceFailed", Level = LogLevel.Warning, Message = "Approval maintenance step failed (will retry): {Reason}")]
    private static partial void LogMaintenanceFailed(ILogger logger, string reason);
}
