using System.Collections.Concurrent;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Remembers recently handled Slack deliveries (a click is identified by its action_ts and user) so
/// that Slack's retries, and the same envelope arriving twice over Socket Mode, change nothing twice.
/// In memory: retries come within minutes, and the gateway still refuses a second transition.
/// </summary>
internal sealed class SlackDeliveryDeduplicator(TimeProvider timeProvider)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);
    private const int SweepAbove = 10_000;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    /// <summary>True the first time <paramref name="key"/> is seen within <see cref="Window"/>.</summary>
    public bool TryBegin(string key)
    {
        var now = timeProvider.GetUtcNow();
        if (_seen.Count > SweepAbove)
        {
            foreach (var (k, at) in _seen)
            {
                if (now - at > Window)
                {
                    _seen.TryRemove(k, out _);
                }
            }
        }

        while (true)
        {
            if (_seen.TryAdd(key, now))
            {
                return true;
            }

            if (!_seen.TryGetValue(key, out var seenAt))
            {
                continue;
            }

            if (now - seenAt <= Window)
            {
                return false;
            }

            if (_seen.TryUpdate(key, now, seenAt))
            {
                return true;
            }
        }
    }
}
