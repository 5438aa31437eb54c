using System.Text.Json.Nodes;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>
/// How an upstream reaches the agents: its server-to-client requests (sampling, elicitation,
/// roots) and notifications go through here to the agent session that caused them.
/// </summary>
public interface IUpstreamBridge
{
    ValueTask<CreateMessageResult> SampleAsync(UpstreamConnection upstream, CreateMessageRequestParams? request, CancellationToken cancellationToken);

    ValueTask<ElicitResult> ElicitAsync(UpstreamConnection upstream, ElicitRequestParams? request, CancellationToken cancellationToken);

    ValueTask<ListRootsResult> ListRootsAsync(UpstreamConnection upstream, ListRootsRequestParams? request, CancellationToken cancellationToken);

    /// <summary>progress, message (logging), resources/updated: routed or broadcast as fits.</summary>
    ValueTask OnNotificationAsync(UpstreamConnection upstream, string method, JsonNode? parameters, CancellationToken cancellationToken);

    /// <summary>The merged lists changed (an upstream's list_changed, or one connected or died).</summary>
    ValueTask OnListChangedAsync(string method, CancellationToken cancellationToken);
}
