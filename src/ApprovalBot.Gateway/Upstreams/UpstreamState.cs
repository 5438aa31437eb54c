using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

public enum UpstreamState
{
    /// <summary>The first connection attempt is still under way.</summary>
    Connecting,

    Connected,

    /// <summary>Connected, but pings go unanswered.</summary>
    Unresponsive,

    /// <summary>Down: the first attempt failed or the connection was lost; reconnecting with back-off.</summary>
    Unavailable,
}

/// <summary>An upstream's lists as last fetched (upstream names, not prefixed).</summary>
public sealed record UpstreamLists(
    IReadOnlyList<Tool> Tools,
    IReadOnlyList<Prompt> Prompts,
    IReadOnlyList<Resource> Resources,
    IReadOnlyList<ResourceTemplate> ResourceTemplates,
    ServerCapabilities? Capabilities)
{
    public static readonly UpstreamLists Empty = new([], [], [], [], null);
}
