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
    private readonly FrozenDictionary<string, ClaimsPrincipal> _agentsByHash;
    private readonly ClaimsPrincipal? _anonymous;
    private readonly ILogger<AgentAuthentication> _logger;

    public AgentAuthentication(GatewayOptions options, ILogger<AgentAuthentication> logger)
    {
        // One principal per agent, made once and never changed: a request (and a call held open for
        // minutes) shares it instead of carrying its own identity and claims.
        _agentsByHash = options.Agents
            .Where(a => !string.IsNullOrWhiteSpace(a.Value.ApiKeySha256))
            .ToFrozenDictionary(a => a.Value.ApiKeySha256!.Trim().ToLowerInvariant(), a => Principal(a.Key, "apikey"), StringComparer.Ordinal);
        _anonymous = options.AllowAnonymous ? Principal("anonymous", "anonymous") : null;
        _logger = logger;
    }

    public static string HashKey(string apiKey) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));

    /// <summary>Not async on the way through: an accepted request keeps no state machine of this step while it runs.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            if (_anonymous is null)
            {
                return RejectAsync(context, "missing bearer API key");
            }

            context.User = _anonymous;
            return next(context);
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            || !_agentsByHash.TryGetValue(HashKey(header["Bearer ".Length..].Trim()), out var agent))
        {
            return RejectAsync(context, "unknown API key");
        }

        context.User = agent;
        return next(context);
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
