using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Work that must happen after Slack got its HTTP 200 (Slack wants an answer within 3 s): sending a
/// decision to the gateway, opening a dialog, posting an ephemeral reply. A few workers run items
/// concurrently, so one slow gateway answer does not delay a dialog whose trigger_id expires in 3 s.
/// Failures are logged, never lost silently.
/// </summary>
public sealed class SlackWorkQueue(ILogger<SlackWorkQueue> logger) : BackgroundService
{
    public const int Capacity = 1000;
    public const int Workers = 4;

    private readonly Channel<WorkItem> _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(Capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = false,
        SingleWriter = false,
    });

    private int _pending;

    /// <summary>Items queued or running.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Queues <paramref name="work"/>; false (and logged) when the queue is full.</summary>
    public bool Enqueue(string description, Func<CancellationToken, Task> work)
    {
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(new WorkItem(description, work)))
        {
            return true;
        }

        Interlocked.Decrement(ref _pending);
        SlackLog.WorkQueueFull(logger, description);
        return false;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => WorkAsync(stoppingToken)));

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var item in _queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await item.Work(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    SlackLog.WorkFailed(logger, e, item.Description);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private sealed record WorkItem(string Description, Func<CancellationToken, Task> Work);
}
