namespace ApprovalBot.Bot.Channels;

/// <summary>
/// How the channels' HTTP clients (Slack Web API, Teams Connector) retry: in the resilience
/// pipeline of their named <see cref="HttpClient"/>, configured beside the channel's registration.
/// A 429 is always retried after its Retry-After (capped): the service did nothing. A request
/// whose fate is unknown (a 5xx, a transport failure) is retried only when it is idempotent, never
/// a blind second post. Each attempt has its own timeout.
/// </summary>
internal static class HttpRetry
{
    /// <summary>The Retry-After of <paramref name="response"/>, between zero and <paramref name="max"/>; null when it names none.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, DateTimeOffset now, TimeSpan max)
    {
        var header = response?.Headers.RetryAfter;
        TimeSpan? delay = header?.Delta ?? (header?.Date is { } date ? date - now : null);
        if (delay is not { } value)
        {
            return null;
        }

        return value < TimeSpan.Zero ? TimeSpan.Zero : value > max ? max : value;
    }
}
