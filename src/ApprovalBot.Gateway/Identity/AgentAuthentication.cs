using System.Collections.Frozen;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using ApprovalBot.Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Identity;

/// <summary>
/// Agents present <c>Authorization: Bearer &lt;api key&gt;</c>; keys are configured as hex SHA-256, so
/// the configuration never holds a usable key. A wrong key is always 401; a missing one is 401
/// unless anonymous access is allowed.
/// </summary>
public sealed partial class AgentAuthentication
{
    private readonly FrozenDictionary<string, string> _agentsByHash;
    private readonly bool _allowAnonymous;
    private readonly ILogger<AgentAuthentication> _logger;

    public AgentAuthentication(GatewayOptions options, ILogger<AgentAuthentication> logger)
    {
        _agentsByHash = options.Agents
            .Where(a => !string.IsNullOrWhiteSpace(a.Value.ApiKeySha256))
            .ToFrozenDictionary(a => a.Value.ApiKeySha256!.Trim().ToLowerInvariant(), a => a.Key, StringComparer.Ordinal);
        _allowAnonymous = options.AllowAnonymous;
        _logger = logger;
    }

    public static string HashKey(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            if (!_allowAnonymous)
            {
                await RejectAsync(context, "missing bearer API key");
                return;
            }

            context.User = Principal("anonymous", "anonymous");
            await next(context);
            return;
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            || !_agentsByHash.TryGetValue(HashKey(header["Bearer ".Length..].Trim()), out var agent))
        {
            await RejectAsync(context, "unknown API key");
            return;
        }

        context.User = Principal(agent, "apikey");
        await next(context);
    }

    private async Task RejectAsync(HttpContext context, string reason)
    {
        LogAgentRejected(_logger, context.Connection.RemoteIpAddress?.ToString() ?? "-", reason);
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"approvalbot\"";
        await context.Response.WriteAsJsonAsync(new { error = "unauthorized", message = $"ApprovalBot needs a valid agent API key: {reason}." });
    }

    private static ClaimsPrincipal Principal(string name, string scheme) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.NameIdentifier, name)], scheme));

    [LoggerMessage(EventName = "AgentRejected", Level = LogLevel.Warning, Message = "MCP request from {Remote} rejected: {Reason}")]
    private static partial void LogAgentRejected(ILogger logger, string remote, string reason);
}
