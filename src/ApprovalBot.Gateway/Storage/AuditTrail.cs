using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// Appends audit rows off the call path: a call records its decision without waiting for the disk,
/// and a single writer drains the queue. <see cref="FlushAsync"/> waits for what was recorded so far.
/// </summary>
public sealed partial class AuditTrail(GatewayStore store, ILogger<AuditTrail> logger) : BackgroundService
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (entry, flushed) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await WriteAsync(entry, flushed, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Drain what is left so a clean shutdown loses no decision.
            while (_queue.Reader.TryRead(out var item))
            {
                await WriteAsync(item.Entry, item.Flushed, CancellationToken.None);
            }
        }
    }

    private async Task WriteAsync(AuditEntry? entry, TaskCompletionSource? flushed, CancellationToken cancellationToken)
    {
        if (entry is not null)
        {
            try
            {
                await store.AppendAuditAsync(entry, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogAuditWriteFailed(logger, entry.Decision, entry.Tool, e.Message);
            }
        }

        flushed?.TrySetResult();
    }

    [LoggerMessage(EventName = "AuditWriteFailed", Level = LogLevel.Error, Message = "Audit row {Decision} for {Tool} could not be written: {Reason}")]
    private static partial void LogAuditWriteFailed(ILogger logger, string decision, string? tool, string reason);
}
