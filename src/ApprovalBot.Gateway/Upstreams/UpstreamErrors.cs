using System.Globalization;
using ModelContextProtocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>
/// The upstream is down (or has not connected yet). Its last known tools stay listed, so the
/// agent learns "down, try later" rather than "no such tool".
/// </summary>
public sealed class UpstreamUnavailableException(string upstream, string reason)
    : McpException($"Upstream '{upstream}' is unavailable ({reason}); try again later.")
{
    public string Upstream { get; } = upstream;

    public string Reason { get; } = reason;
}

/// <summary>A forwarded request got no answer within the upstream's <c>CallTimeout</c>; it was cancelled upstream.</summary>
public sealed class UpstreamTimeoutException(string upstream, string method, TimeSpan timeout)
    : McpException(
        $"Upstream '{upstream}' did not answer {method} within {UpstreamText.Duration(timeout)} " +
        $"(Gateway:Upstreams:{upstream}:CallTimeout); the request was cancelled, though the upstream may still have acted on it.")
{
    public string Upstream { get; } = upstream;

    public TimeSpan Timeout { get; } = timeout;
}

internal static class UpstreamText
{
    /// <summary>"60 s", "1.5 s": how durations read in messages to agents and operators.</summary>
    public static string Duration(TimeSpan value) =>
        value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";

    /// <summary>
    /// Why an upstream is down, as agents and /readyz see it: the first line only. The SDK appends the
    /// process's stderr tail to an exit message, and an upstream's stderr is no business of an agent's.
    /// </summary>
    public static string Reason(string message)
    {
        var line = message.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        var first = (end < 0 ? line : line[..end]).TrimEnd().ToString();
        return first.Length > 200 ? first[..200] + "…" : first;
    }
}
