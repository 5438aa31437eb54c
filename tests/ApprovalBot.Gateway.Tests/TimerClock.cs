using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Gateway.Tests;

/// <summary>
/// A fake clock that also tells which timers exist: a test waits until the code under test has
/// registered the timer it means to fire (a held call's expiry, a hold) before moving the clock,
/// instead of sleeping and hoping it has.
/// </summary>
public sealed class TimerClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly ConcurrentQueue<(DateTimeOffset CreatedAt, TimeSpan DueTime)> _timers = new();

    /// <summary>Every timer created so far: when (on this clock) and with which first due time.</summary>
    public IReadOnlyCollection<(DateTimeOffset CreatedAt, TimeSpan DueTime)> Timers => _timers;

    private int _timestamps;

    /// <summary>How many times code read the monotonic clock (a loop that reads it once per round shows its progress).</summary>
    public int TimestampReads => Volatile.Read(ref _timestamps);

    public override long GetTimestamp()
    {
        Interlocked.Increment(ref _timestamps);
        return base.GetTimestamp();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _timers.Enqueue((GetUtcNow(), dueTime));
        return base.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Waits (bounded) until a timer due <paramref name="dueTime"/> after its creation exists.</summary>
    public Task WaitForTimerAsync(TimeSpan dueTime) =>
        Eventually.TrueAsync(() => _timers.Any(t => t.DueTime == dueTime), $"a timer due in {dueTime}");
}
