using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Bot.Tests;

/// <summary>
/// A fake clock that also tells which timers exist (as the gateway tests' one does): a test waits until
/// the code under test has registered the delay it means to fire (a Retry-After, a back-off) and then
/// moves the clock by exactly that much, instead of stepping the clock and sleeping between steps.
/// </summary>
public sealed class TimerClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly ConcurrentQueue<TimeSpan> _timers = new();

    /// <summary>The first due time of every timer created so far, in creation order.</summary>
    public IReadOnlyList<TimeSpan> Timers => _timers.ToList();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        _timers.Enqueue(dueTime);
        return base.CreateTimer(callback, state, dueTime, period);
    }

    /// <summary>Waits (bounded, real time; asserts no timing) until <paramref name="count"/> timers due in <paramref name="dueTime"/> exist.</summary>
    public async Task WaitForTimersAsync(TimeSpan dueTime, int count = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (_timers.Count(t => t == dueTime) < count)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {count} timer(s) due in {dueTime}; timers: {string.Join(", ", _timers)}.");
            }

            await Task.Delay(10);
        }
    }
}
