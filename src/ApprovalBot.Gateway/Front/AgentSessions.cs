using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ApprovalBot.Gateway.Upstreams;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ApprovalBot.Gateway.Front;

/// <summary>
/// The agents' live sessions and their calls in flight. Upstream connections are shared by all
/// agents, so this is where an upstream's notifications and server-to-client requests find the
/// agent session they belong to.
/// </summary>
public sealed partial class AgentSessions(ILogger<AgentSessions> logger) : IUpstreamBridge
{
    private readonly ConcurrentDictionary<McpServer, SessionState> _sessions = new();
    private readonly ConcurrentDictionary<string, McpServer> _bySessionId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, InFlightCall> _callsByToken = new(StringComparer.Ordinal);
    private long _nextCall;

    public void Touch(McpServer server) => _sessions.GetOrAdd(SessionOf(server), _ => new SessionState());

    public void Remove(McpServer server)
    {
        if (_bySessionId.TryRemove(server.SessionId ?? "", out var session))
        {
            _sessions.TryRemove(session, out _);
        }

        _sessions.TryRemove(server, out _);
    }

    public void Subscribe(McpServer server, string uri) => _sessions.GetOrAdd(SessionOf(server), _ => new SessionState()).Subscriptions[uri] = 0;

    public void Unsubscribe(McpServer server, string uri)
    {
        if (_sessions.TryGetValue(SessionOf(server), out var state))
        {
            state.Subscriptions.TryRemove(uri, out _);
        }
    }

    /// <summary>
    /// The server a session was first seen as. Request handlers get a new per-request wrapper of the
    /// session's server on every call; keyed by the wrapper, each call would add an entry that is never
    /// removed (a leak on the allow path) and every session notification would be sent once per past call.
    /// </summary>
    private McpServer SessionOf(McpServer server) => _bySessionId.GetOrAdd(server.SessionId ?? "", server);

    /// <summary>
    /// Registers a call going upstream. Returns the progress token to send upstream (a gateway
    /// token, so two agents' tokens can never collide) and a handle that ends the registration.
    /// </summary>
    /// <param name="progressBefore">Progress the gateway itself reported on <paramref name="agentToken"/> before (a held call's waiting): the upstream's continues from there.</param>
    public InFlightCall BeginCall(McpServer server, UpstreamConnection upstream, ProgressToken? agentToken, long progressBefore = 0)
    {
        var id = Interlocked.Increment(ref _nextCall);
        var call = new InFlightCall(this, id, server, upstream, agentToken, new ProgressToken($"abg-{id}"), progressBefore);
        _callsByToken[call.GatewayToken.ToString()!] = call;
        return call;
    }

    internal void EndCall(InFlightCall call) => _callsByToken.TryRemove(call.GatewayToken.ToString()!, out _);

    public ValueTask<CreateMessageResult> SampleAsync(UpstreamConnection upstream, CreateMessageRequestParams? request, CancellationToken cancellationToken) =>
        CallerOf(upstream).SampleAsync(request!, cancellationToken);

    public ValueTask<ElicitResult> ElicitAsync(UpstreamConnection upstream, ElicitRequestParams? request, CancellationToken cancellationToken) =>
        CallerOf(upstream).ElicitAsync(request!, cancellationToken);

    public ValueTask<ListRootsResult> ListRootsAsync(UpstreamConnection upstream, ListRootsRequestParams? request, CancellationToken cancellationToken) =>
        CallerOf(upstream).RequestRootsAsync(request ?? new ListRootsRequestParams(), cancellationToken);

    public async ValueTask OnNotificationAsync(UpstreamConnection upstream, string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        switch (method)
        {
            case NotificationMethods.ProgressNotification:
                var token = parameters?["progressToken"]?.ToString();
                if (token is not null && _callsByToken.TryGetValue(token, out var call) && call.AgentToken is { } agentToken)
                {
                    var forwarded = parameters!.DeepClone();
                    forwarded["progressToken"] = agentToken.Token is string s ? JsonValue.Create(s) : JsonValue.Create(Convert.ToInt64(agentToken.Token, System.Globalization.CultureInfo.InvariantCulture));
                    if (call.ProgressBefore > 0)
                    {
                        // The agent already saw the gateway's own 1 … n while the call was held: progress must only
                        // increase on a token, so the upstream's values (and its total) continue after n — its 0 is n + 1.
                        Offset(forwarded, "progress", call.ProgressBefore + 1);
                        Offset(forwarded, "total", call.ProgressBefore + 1);
                    }

                    await SendQuietlyAsync(call.Server, method, forwarded, cancellationToken);
                }

                break;
            case NotificationMethods.ResourceUpdatedNotification:
                var uri = parameters?["uri"]?.GetValue<string>();
                foreach (var (server, state) in _sessions)
                {
                    if (uri is not null && state.Subscriptions.ContainsKey(uri))
                    {
                        await SendQuietlyAsync(server, method, parameters?.DeepClone(), cancellationToken);
                    }
                }

                break;
            case NotificationMethods.LoggingMessageNotification:
                var level = ParseLevel(parameters?["level"]?.GetValue<string>());
                foreach (var server in _sessions.Keys)
                {
                    if (server.LoggingLevel is { } wanted && level >= wanted)
                    {
                        // While the session has a call at this upstream, the message goes with that call,
                        // so it reaches the agent before the call's answer (on HTTP: on the call's own stream).
                        var during = LatestCall(upstream, server);
                        await SendQuietlyAsync(during?.Server ?? server, method, parameters?.DeepClone(), cancellationToken);
                    }
                }

                break;
        }
    }

    public async ValueTask OnListChangedAsync(string method, CancellationToken cancellationToken)
    {
        foreach (var server in _sessions.Keys)
        {
            await SendQuietlyAsync(server, method, null, cancellationToken);
        }
    }

    /// <summary>
    /// An upstream request belongs to the call that triggered it; over a shared connection the
    /// protocol does not say which, so the most recent call in flight to that upstream is used.
    /// </summary>
    private McpServer CallerOf(UpstreamConnection upstream) =>
        LatestCall(upstream, session: null)?.Server ?? throw new McpException($"No agent call is in flight to upstream '{upstream.Name}' to answer its request.");

    /// <summary>The most recent call in flight to <paramref name="upstream"/>: of any session, or of <paramref name="session"/>.</summary>
    private InFlightCall? LatestCall(UpstreamConnection upstream, McpServer? session)
    {
        InFlightCall? latest = null;
        foreach (var call in _callsByToken.Values)
        {
            if (ReferenceEquals(call.Upstream, upstream) && (session is null || call.Server.SessionId == session.SessionId) && (latest is null || call.Id > latest.Id))
            {
                latest = call;
            }
        }

        return latest;
    }

    private async ValueTask SendQuietlyAsync(McpServer server, string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        try
        {
            await server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = parameters }, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A session that cannot take a notification is gone or going.
            LogNotificationDropped(logger, method, e.Message);
            if (e is ObjectDisposedException or InvalidOperationException)
            {
                Remove(server);
            }
        }
    }

    private static LoggingLevel ParseLevel(string? level) => level switch
    {
        "debug" => LoggingLevel.Debug,
        "info" => LoggingLevel.Info,
        "notice" => LoggingLevel.Notice,
        "warning" => LoggingLevel.Warning,
        "error" => LoggingLevel.Error,
        "critical" => LoggingLevel.Critical,
        "alert" => LoggingLevel.Alert,
        "emergency" => LoggingLevel.Emergency,
        _ => LoggingLevel.Info,
    };

    [LoggerMessage(EventName = "NotificationDropped", Level = LogLevel.Debug, Message = "Notification {Method} not delivered to a session: {Reason}")]
    private static partial void LogNotificationDropped(ILogger logger, string method, string reason);

    private static void Offset(JsonNode notification, string property, long by)
    {
        if (notification[property] is JsonValue value && value.TryGetValue<double>(out var number))
        {
            notification[property] = JsonValue.Create(number + by);
        }
    }

    private sealed class SessionState
    {
        public ConcurrentDictionary<string, byte> Subscriptions { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>One agent call in flight to an upstream; dispose when the upstream answered.</summary>
public sealed class InFlightCall(AgentSessions owner, long id, McpServer server, UpstreamConnection upstream, ProgressToken? agentToken, ProgressToken gatewayToken, long progressBefore = 0) : IDisposable
{
    /// <summary>Progress the gateway reported on the agent's token before this call went upstream.</summary>
    public long ProgressBefore { get; } = progressBefore;

    public long Id { get; } = id;
    public McpServer Server { get; } = server;
    public UpstreamConnection Upstream { get; } = upstream;
    public ProgressToken? AgentToken { get; } = agentToken;
    public ProgressToken GatewayToken { get; } = gatewayToken;

    public void Dispose() => owner.EndCall(this);
}
