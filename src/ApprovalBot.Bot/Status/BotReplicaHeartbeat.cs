using ApprovalBot.Bot.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Status;

/// <summary>
/// With a shared store (PostgreSQL), writes this bot replica's heartbeat there, so /policy status on
/// any replica can tell which bots are alive. With SQLite there is one bot and nothing to write.
/// </summary>
internal sealed partial class BotReplicaHeartbeat(BotStore store, TimeProvider time, ILogger<BotReplicaHeartbeat> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Three missed beats: shown offline (as gateways are).</summary>
    public static readonly TimeSpan OfflineAfter = HeartbeatTracker.DefaultOfflineAfter;

    /// <summary>Replicas silent this long are no longer listed (a replaced container's id stays away).</summary>
    public static readonly TimeSpan ListedFor = TimeSpan.FromHours(1);

    private static readonly TimeSpan ForgetAfter = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!store.Shared)
        {
            return;
        }

        var startedAt = time.GetUtcNow();
        using var timer = new PeriodicTimer(Interval, time);
        var beats = 0;
        try
        {
            do
            {
                try
                {
                    await store.BeatAsync(startedAt, stoppingToken);
                    // Now and then, not every beat: old rows only lengthen the table.
                    if (beats++ % 360 == 0)
                    {
                        await store.ForgetReplicasAsync(time.GetUtcNow() - ForgetAfter, stoppingToken);
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    LogBeatFailed(logger, store.Replica, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the beats end here.
        }
    }

    [LoggerMessage(EventName = "BotHeartbeatFailed", Level = LogLevel.Warning, Message = "Bot replica {Instance} could not write its heartbeat to the shared store: {Reason}")]
    private static partial void LogBeatFailed(ILogger logger, string instance, string reason);
}
