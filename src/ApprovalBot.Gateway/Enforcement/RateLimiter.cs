using System.Collections.Concurrent;
using ApprovalBot.Core.Policy;

namespace ApprovalBot.Gateway.Enforcement;

/// <summary>Sliding-window call counts per agent identity and rule.</summary>
public sealed class RateLimiter(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Agent, string Rule), Queue<long>> _windows = new();

    /// <summary>Counts the call if it fits; otherwise says how long until it would.</summary>
    public bool TryAcquire(string agent, string rule, RateLimit limit, out TimeSpan retryAfter)
    {
        var now = time.GetTimestamp();
        var window = (long)(limit.WindowSeconds * (double)time.TimestampFrequency);
        var calls = _windows.GetOrAdd((agent, rule), _ => new Queue<long>());
        lock (calls)
        {
            while (calls.Count > 0 && now - calls.Peek() >= window)
            {
                calls.Dequeue();
            }

            if (calls.Count < limit.Max)
            {
                calls.Enqueue(now);
                retryAfter = TimeSpan.Zero;
                return true;
            }

            retryAfter = TimeSpan.FromSeconds(Math.Ceiling((window - (now - calls.Peek())) / (double)time.TimestampFrequency));
            return false;
        }
    }
}
