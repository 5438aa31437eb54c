using System.Net;
using ApprovalBot.Gateway.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Front;

/// <summary>
/// The MCP transport's own requirements for an HTTP server: refuse browser origins that are not
/// ours and Host names that are not ours (both DNS rebinding: a web page whose name now resolves
/// to 127.0.0.1 reaches a local gateway with its own name in Host), and bodies larger than configured.
/// </summary>
public sealed partial class FrontHygiene(GatewayOptions options, ILogger<FrontHygiene> logger, IServer? server = null)
{
    private readonly HashSet<string> _allowedOrigins = new(options.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
    private HostRule? _hosts;

    /// <summary>Not async on the way through: an accepted request keeps no state machine of this step while it runs.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var host = context.Request.Host;
        if (!Hosts().Allows(host))
        {
            LogHostRejected(logger, host.Value ?? string.Empty);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsJsonAsync(new
            {
                error = "forbidden_host",
                message = $"Host '{host.Host}' is not allowed on /mcp. Set ApprovalBot:Gateway:AllowedHosts to the names clients use to reach this gateway.",
            });
        }

        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !IsAllowedOrigin(origin))
        {
            LogOriginRejected(logger, origin);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsJsonAsync(new { error = "forbidden_origin", message = $"Origin {origin} is not allowed." });
        }

        if (context.Request.ContentLength > options.MaxRequestBodyBytes)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return context.Response.WriteAsJsonAsync(new { error = "too_large", message = $"Request bodies are limited to {options.MaxRequestBodyBytes} bytes." });
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxRequestBodyBytes;
        }

        return next(context);
    }

    /// <summary>Decided on the first request: only then are the listening addresses known.</summary>
    private HostRule Hosts() => _hosts ??= HostRule.Create(options.AllowedHosts, server?.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);

    private bool IsAllowedOrigin(string origin)
    {
        if (_allowedOrigins.Contains(origin.TrimEnd('/')))
        {
            return true;
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && (uri.IsLoopback || string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase));
    }

    [LoggerMessage(EventName = "OriginRejected", Level = LogLevel.Warning, Message = "MCP request from origin {Origin} rejected")]
    private static partial void LogOriginRejected(ILogger logger, string origin);

    [LoggerMessage(EventName = "HostRejected", Level = LogLevel.Warning, Message = "MCP request for host {Host} rejected (not in Gateway:AllowedHosts)")]
    private static partial void LogHostRejected(ILogger logger, string host);
}

/// <summary>Which Host header values /mcp accepts.</summary>
public sealed class HostRule
{
    private readonly string[] _exact;
    private readonly string[] _suffixes;
    private readonly bool _any;
    private readonly bool _loopback;

    private HostRule(string[] exact, string[] suffixes, bool any, bool loopback)
    {
        _exact = exact;
        _suffixes = suffixes;
        _any = any;
        _loopback = loopback;
    }

    /// <summary>What <c>Gateway:AllowedHosts</c> says; when empty, loopback names if every listening address is loopback, else any host.</summary>
    public static HostRule Create(IReadOnlyCollection<string> configured, IEnumerable<string> listeningAddresses)
    {
        var entries = configured.Select(h => h.Trim()).Where(h => h.Length > 0).ToArray();
        if (entries.Length == 0)
        {
            var addresses = listeningAddresses.ToList();
            // Bound to a public interface without configured names: nothing to compare with.
            return addresses.Count > 0 && addresses.All(IsLoopbackAddress)
                ? new HostRule([], [], any: false, loopback: true)
                : new HostRule([], [], any: true, loopback: false);
        }

        return new HostRule(
            entries.Where(e => !e.StartsWith("*", StringComparison.Ordinal)).Select(StripPort).ToArray(),
            entries.Where(e => e.StartsWith("*.", StringComparison.Ordinal)).Select(e => StripPort(e[1..])).ToArray(),
            any: entries.Contains("*"),
            loopback: false);
    }

    public bool Allows(HostString host)
    {
        if (_any)
        {
            return true;
        }

        var name = host.Host?.Trim('[', ']');
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        if (_loopback)
        {
            return IsLoopbackName(name);
        }

        return _exact.Any(e => string.Equals(e, name, StringComparison.OrdinalIgnoreCase))
            || _suffixes.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase) && name.Length > s.Length);
    }

    /// <summary><c>localhost</c> (and <c>*.localhost</c>, which browsers resolve locally), 127.0.0.0/8 and ::1.</summary>
    public static bool IsLoopbackName(string host)
    {
        var name = host.Trim('[', ']');
        return string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(name, out var ip) && IPAddress.IsLoopback(ip));
    }

    private static bool IsLoopbackAddress(string address)
    {
        var start = address.IndexOf("://", StringComparison.Ordinal);
        var rest = start < 0 ? address : address[(start + 3)..];
        var hostAndPort = rest.Split('/')[0];
        var host = hostAndPort.StartsWith('[') ? hostAndPort[..(hostAndPort.IndexOf(']', StringComparison.Ordinal) + 1)] : hostAndPort.Split(':')[0];
        return IsLoopbackName(host);
    }

    private static string StripPort(string entry) =>
        entry.StartsWith('[') ? entry[..(entry.IndexOf(']', StringComparison.Ordinal) + 1)].Trim('[', ']') : entry.Split(':')[0];
}
