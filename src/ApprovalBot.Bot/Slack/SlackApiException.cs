namespace ApprovalBot.Bot.Slack;

/// <summary>Slack answered <c>ok:false</c> (or could not be used at all); <see cref="Error"/> is Slack's error code.</summary>
internal sealed class SlackApiException(string method, string error, Exception? inner = null)
    : Exception($"Slack Web API {method} failed: {error}", inner)
{
    public string Method { get; } = method;

    /// <summary>Slack's error code (channel_not_found, not_in_channel, invalid_auth, ratelimited, …) or http_NNN.</summary>
    public string Error { get; } = error;

    /// <summary>Worth trying again later: rate limits, Slack-side outages, transport failures.</summary>
    public bool IsTransient => Error is "ratelimited" or "internal_error" or "fatal_error" or "service_unavailable"
        or "request_timeout" or "timeout" or "transport_error" or "invalid_response"
        || Error.StartsWith("http_5", StringComparison.Ordinal);
}
