using System.Text.Json;
using System.Threading.Channels;
using ApprovalBot.Core.Approvals;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// Appends audit rows off the call path: a call records its decision without waiting for the disk,
/// and a single writer drains the queue. <see cref="FlushAsync"/> waits for what was recorded so far.
/// </summary>
/// <remarks>
/// Rows are gathered for up to <see cref="Window"/> before a transaction: at one call at a time a
/// transaction per row cost more CPU than the call (WAL frames, locks, and on this data directory
/// the policy watcher's inotify wake-ups), taken from the two cores the call itself runs on. A call's
/// decision line (<c>CallDecided</c>) and its arguments' digest are made here too, off the call's path.
/// With an <see cref="IAuditOutbox"/>, each batch also queues the webhook deliveries its rows cause, in
/// the same transaction: a decision is never recorded without its events, and no call waits for a webhook.
/// </remarks>
public sealed partial class AuditTrail(GatewayStore store, ILogger<AuditTrail> logger, IAuditOutbox? outbox = null) : BackgroundService
{
    /// <summary>How long a recorded row may wait for others before its transaction (a flush does not wait).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(50);

    private readonly Channel<Item> _queue = Channel.CreateUnbounded<Item>(new UnboundedChannelOptions { SingleReader = true });
    private TaskCompletionSource _flushRequested = NewSignal();

    /// <summary>One queued row; a call's decision also carries its arguments (digested by the writer) and the logger of its decision line.</summary>
    private readonly record struct Item(AuditEntry? Entry, TaskCompletionSource? Flushed, IDictionary<string, JsonElement>? Arguments = null, ArgumentDigest? Digests = null, ILogger? DecisionLog = null);

    public void Record(AuditEntry entry) => _queue.Writer.TryWrite(new Item(entry, null));

    /// <summary>
    /// A call's decision: the row, with the digest of <paramref name="arguments"/> computed by the writer, and the
    /// <c>CallDecided</c> line written to <paramref name="decisionLog"/> by the writer too.
    /// </summary>
    public void RecordDecision(AuditEntry entry, IDictionary<string, JsonElement>? arguments, ArgumentDigest digests, ILogger decisionLog) =>
        _queue.Writer.TryWrite(new Item(entry, null, arguments, digests, decisionLog));

    public Task FlushAsync(CancellationToken cancellationToken)
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Writer.TryWrite(new Item(null, flushed));
        Volatile.Read(ref _flushRequested).TrySetResult();
        return flushed.Task.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>At most this many rows per transaction.</summary>
    private const int MaxBatch = 512;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                // Gather more rows unless someone waits for these (a flush set the signal).
                await Task.WhenAny(Task.Delay(Window, stoppingToken), Volatile.Read(ref _flushRequested).Task);
                Volatile.Write(ref _flushRequested, NewSignal());
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
            if (item.Entry is { } entry)
            {
                if (item.DecisionLog is { } log)
                {
                    entry = entry with { Digest = item.Arguments is null ? null : item.Digests!.Compute(item.Arguments) };
                    LogCallDecided(log, entry.Decision, entry.Tool ?? "(none)", entry.Agent ?? "-", entry.Rule ?? "-");
                }

                batch.Add(entry);
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

    [LoggerMessage(EventName = "CallDecided", Level = LogLevel.Information, Message = "{Decision} {Tool} for agent {Agent} by {Rule}")]
    private static partial void LogCallDecided(ILogger logger, string decision, string tool, string agent, string rule);

    [LoggerMessage(EventName = "AuditWriteFailed", Level = LogLevel.Error, Message = "Audit row {Decision} for {Tool} could not be written: {Reason}")]
    private static partial void LogAuditWriteFailed(ILogger logger, string decision, string? tool, string reason);
}
