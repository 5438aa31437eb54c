using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// Appends audit rows off the call path: a call records its decision without waiting for the disk,
/// and a single writer drains the queue. <see cref="FlushAsync"/> waits for what was recorded so far.
/// </summary>
/// <remarks>
/// With an <see cref="IAuditOutbox"/>, each batch also queues the webhook deliveries its rows cause, in
/// the same transaction: a decision is never recorded without its events, and no call waits for a webhook.
/// </remarks>
public sealed partial class AuditTrail(GatewayStore store, ILogger<AuditTrail> logger, IAuditOutbox? outbox = null) : BackgroundService
{
    private readonly Channel<(AuditEntry? Entry, TaskCompletionSource? Flushed)> _queue =
        Channel.CreateUnbounded<(AuditEntry?, TaskCompletionSource?)>(new UnboundedChannelOptions { SingleReader = true });

    public void Record(AuditEntry entry) => _queue.Writer.TryWrite((entry, null));

    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Writer.TryWrite((null, flushed));
        return flushed.Task.WaitAsync(cancellationToken);
    }

    /// <summary>At most this many rows per transaction.</summary>
    private const int MaxBatch = 512;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                await DrainAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Drain what is left so a clean shutdown loses no decision.
            await DrainAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Writes everything queued, in order, one transaction per batch: a busy gateway (thousands of allowed
    /// calls per second) would spend more on one commit per row than on the calls. A flush is answered
    /// once every row recorded before it is written.
    /// </summary>
    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var batch = new List<AuditEntry>();
        while (_queue.Reader.TryRead(out var item))
        {
            if (item.Entry is not null)
            {
                batch.Add(item.Entry);
            }

            if (item.Flushed is not null || batch.Count >= MaxBatch)
            {
                await WriteAsync(batch, cancellationToken);
                batch.Clear();
                item.Flushed?.TrySetResult();
            }
        }

        await WriteAsync(batch, cancellationToken);
    }

    private async Task WriteAsync(List<AuditEntry> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        try
        {
            var deliveries = await store.AppendAuditAsync(batch, outbox, cancellationToken);
            outbox?.Committed(deliveries);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            foreach (var entry in batch)
            {
                LogAuditWriteFailed(logger, entry.Decision, entry.Tool, e.Message);
            }
        }
    }

    [LoggerMessage(EventName = "AuditWriteFailed", Level = LogLevel.Error, Message = "Audit row {Decision} for {Tool} could not be written: {Reason}")]
    private static partial void LogAuditWriteFailed(ILogger logger, string decision, string? tool, string reason);
}
