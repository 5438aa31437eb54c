using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Audit;

/// <summary>
/// Removes what is older than <see cref="AuditOptions.RetentionDays"/>: audit rows, ended approvals,
/// delivered webhook events. At start-up and then every <see cref="AuditOptions.PruneInterval"/>, in
/// batches of short transactions with a yield between them, so calls never wait on a long delete.
/// </summary>
public sealed partial class AuditRetention(GatewayStore store, AuditOptions options, TimeProvider time, ILogger<AuditRetention> logger) : BackgroundService
{
    /// <summary>Delivered and given-up webhook deliveries are kept this long (or less, with a shorter retention).</summary>
    public const int OutboxDays = 7;

    /// <summary>One pass; returns how many rows went, per target.</summary>
    public async Task<IReadOnlyDictionary<PruneTarget, int>> PruneOnceAsync(CancellationToken cancellationToken)
    {
        var removed = new Dictionary<PruneTarget, int>();
        if (options.RetentionDays == 0)
        {
            return removed;
        }

        var now = time.GetUtcNow();
        foreach (var target in Enum.GetValues<PruneTarget>())
        {
            // A delivered event's body is only kept to look into recent trouble.
            var keep = TimeSpan.FromDays(target == PruneTarget.Outbox ? Math.Min(options.RetentionDays, OutboxDays) : options.RetentionDays);
            var before = now - keep;
            var total = 0;
            int count;
            do
            {
                count = await store.PruneBatchAsync(target, before, options.PruneBatchSize, cancellationToken);
                total += count;
                // Let the audit writer and lifecycle updates in between batches.
                await Task.Yield();
            }
            while (count > 0);

            removed[target] = total;
        }

        if (removed.Values.Any(v => v > 0))
        {
            LogPruned(logger, options.RetentionDays, removed.GetValueOrDefault(PruneTarget.Audit), removed.GetValueOrDefault(PruneTarget.Approvals), removed.GetValueOrDefault(PruneTarget.Outbox));
        }

        return removed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.RetentionDays == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.PruneInterval, time);
        try
        {
            do
            {
                try
                {
                    await PruneOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogPruneFailed(logger, e.Message);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventName = "AuditPruned", Level = LogLevel.Information, Message = "Retention ({Days} days): removed {Audit} audit rows, {Approvals} ended approvals, {Deliveries} webhook deliveries")]
    private static partial void LogPruned(ILogger logger, int days, int audit, int approvals, int deliveries);

    [LoggerMessage(EventName = "AuditPruneFailed", Level = LogLevel.Warning, Message = "Retention pass failed (will run again): {Reason}")]
    private static partial void LogPruneFailed(ILogger logger, string reason);
}
