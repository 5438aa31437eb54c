using System.Text.Json;
using ModelContextProtocol;

namespace ApprovalBot.Gateway.Instance;

/// <summary>The gateway's own name and version, and the JSON copy used when renaming upstream objects.</summary>
public static class GatewayInfo
{
    public static string Version { get; } =
        typeof(GatewayInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Copies a protocol object through JSON, so a renamed copy never aliases the upstream's.</summary>
    public static T Clone<T>(T value) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(value, McpJsonUtilities.DefaultOptions), McpJsonUtilities.DefaultOptions)!;
}
