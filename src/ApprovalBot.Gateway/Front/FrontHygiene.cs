using ApprovalBot.Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Front;

/// <summary>
/// The MCP transport's own requirements for an HTTP server: refuse browser origins that are not
/// ours (DNS rebinding) and bodies larger than configured.
/// </summary>
public sealed partial class FrontHygiene(GatewayOptions options, ILogger<FrontHygiene> logger)
{
    private readonly HashSet<string> _allowedOrigins = new(options.AllowedOrigins.Select(o => o.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !IsAllowedOrigin(origin))
        {
            LogOriginRejected(logger, origin);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsJsonAsync(new { error = "forbidden_origin", message = $"Origin {origin} is not allowed." });
            return;
        }

        if (context.Request.ContentLength > options.MaxRequestBodyBytes)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.Response.WriteAsJsonAsync(new { error = "too_large", message = $"Request bodies are limited to {options.MaxRequestBodyBytes} bytes." });
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = options.MaxRequestBodyBytes;
        }

        await next(context);
    }

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
}
