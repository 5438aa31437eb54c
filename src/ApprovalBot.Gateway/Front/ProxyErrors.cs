using System.Text.Json.Nodes;
using ApprovalBot.Gateway.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Front;

/// <summary>The gateway's answers that are not the upstream's: one place, so they read the same everywhere.</summary>
public static class ProxyErrors
{
    /// <summary>Hidden and unknown tools share this exact error, so hiding cannot be detected.</summary>
    public static McpProtocolException UnknownTool(string? name) =>
        new($"Unknown tool: '{name}'", McpErrorCode.InvalidParams);

    public static McpProtocolException UnknownPrompt(string? name) =>
        new($"Unknown prompt: '{name}'", McpErrorCode.InvalidParams);

    public static McpProtocolException InvalidCursor() => new("Invalid cursor", McpErrorCode.InvalidParams);

    /// <summary>The tool exists (its upstream's last known catalogue) but its upstream is down.</summary>
    public static CallToolResult UpstreamUnavailable(UpstreamUnavailableException e) =>
        Refusal(e.Message, new JsonObject { ["decision"] = "upstream_unavailable", ["upstream"] = e.Upstream, ["reason"] = e.Reason });

    /// <summary>The upstream did not answer within its CallTimeout.</summary>
    public static CallToolResult UpstreamTimedOut(UpstreamTimeoutException e) =>
        Refusal(e.Message, new JsonObject { ["decision"] = "upstream_timeout", ["upstream"] = e.Upstream, ["timeoutSeconds"] = e.Timeout.TotalSeconds });

    /// <summary>A tool result the model can read: <c>isError</c>, a plain sentence, details under <c>_meta.approvalbot</c>.</summary>
    public static CallToolResult Refusal(string sentence, JsonObject details) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = sentence }],
        Meta = new JsonObject { ["approvalbot"] = details },
    };
}
