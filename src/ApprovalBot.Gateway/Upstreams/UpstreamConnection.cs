using System.Text.Json;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Instance;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>
/// One upstream MCP server, kept connected: connects with the SDK's client, caches its lists,
/// follows its list_changed notifications, pings it for liveness, and reconnects with back-off
/// when it dies. While it is down its last known lists stay, and its tools answer with a clear
/// "unavailable" error instead of hanging or vanishing.
/// </summary>
public sealed partial class UpstreamConnection : IAsyncDisposable
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private static readonly IReadOnlySet<string> RelayedNotifications = new HashSet<string>(StringComparer.Ordinal)
    {
        NotificationMethods.ProgressNotification,
        NotificationMethods.LoggingMessageNotification,
        NotificationMethods.ResourceUpdatedNotification,
    };

    private readonly UpstreamOptions _options;
    private readonly IUpstreamBridge _bridge;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile McpClient? _client;
    private volatile LiveSession? _live;
    private LiveSession? _connecting;
    private readonly HttpDirectRequests? _direct;
    private volatile UpstreamLists _lists = UpstreamLists.Empty;
    private volatile string? _lastError = "still connecting";
    private volatile string? _unresponsive;
    private int _restarts;
    private int _changedWhileConnecting;

    public UpstreamConnection(string name, UpstreamOptions options, IUpstreamBridge bridge, TimeProvider time, ILoggerFactory loggerFactory)
    {
        Name = name;
        Prefix = options.Prefix ?? name + "_";
        _options = options;
        _bridge = bridge;
        _time = time;
        _loggerFactory = new NoTraceLoggerFactory(loggerFactory);
        _logger = loggerFactory.CreateLogger<UpstreamConnection>();
        _direct = options.Url is { Length: > 0 } url ? new HttpDirectRequests(new Uri(url), options.Headers) : null;
    }

    /// <summary>Raised after <see cref="Lists"/> was replaced (connected, reconnected, or the upstream's list_changed).</summary>
    public event Action<UpstreamConnection>? ListsChanged;

    public string Name { get; }

    /// <summary>Put before this upstream's tool and prompt names; may be empty.</summary>
    public string Prefix { get; }

    public bool Connected => _client is not null;

    /// <summary>False while connected pings go unanswered (a hung process); calls still go, bounded by CallTimeout.</summary>
    public bool Responsive => _unresponsive is null;

    public UpstreamState State =>
        _client is not null ? (_unresponsive is null ? UpstreamState.Connected : UpstreamState.Unresponsive)
        : _firstAttempt.Task.IsCompleted ? UpstreamState.Unavailable
        : UpstreamState.Connecting;

    /// <summary>Why the upstream is down, or null while connected.</summary>
    public string? LastError => _client is null ? _lastError : null;

    /// <summary>What an operator should know: why it is down, or why it counts as unresponsive.</summary>
    public string? Problem => _client is null ? _lastError : _unresponsive;

    public int Restarts => _restarts;

    /// <summary>The last lists fetched; kept while the upstream is down (the last known catalogue).</summary>
    public UpstreamLists Lists => _lists;

    public TimeSpan CallTimeout => _options.CallTimeout;

    /// <summary>Completes once the first connection attempt has finished (either way) and its lists are in <see cref="Lists"/>.</summary>
    public Task FirstAttempt => _firstAttempt.Task;

    public McpClient GetClient() => _client ?? throw Unavailable();

    /// <summary>
    /// Sends one request to the upstream, bounded by <c>CallTimeout</c> so a hung upstream cannot
    /// hold the agent (or an approved call) forever. Throws <see cref="UpstreamUnavailableException"/>
    /// while down and <see cref="UpstreamTimeoutException"/> when no answer came in time.
    /// </summary>
    public async Task<T> ForwardAsync<T>(string method, Func<McpClient, CancellationToken, ValueTask<T>> send, CancellationToken cancellationToken)
    {
        var client = GetClient();
        using var timeout = new CancellationTokenSource(_options.CallTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await send(client, linked.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LogForwardTimedOut(_logger, Name, method, _options.CallTimeout.TotalSeconds);
            throw new UpstreamTimeoutException(Name, method, _options.CallTimeout);
        }
    }

    /// <summary>
    /// tools/call, forwarded as <see cref="ForwardAsync{T}"/> would with the SDK client's
    /// <c>CallToolAsync</c> (same request, same answer, same errors, same cancellation), but its answer
    /// reaches the caller without the SDK client's dispatch: read by the caller itself over HTTP, taken
    /// off the stream by the ordered relay over stdio.
    /// </summary>
    public Task<CallToolResult> CallToolAsync(CallToolRequestParams request, CancellationToken cancellationToken) =>
        ForwardAsync(RequestMethods.ToolsCall, async (client, ct) =>
        {
            if (_live is not { } live || !ReferenceEquals(live.Client, client) || live.Session is not { } session)
            {
                return await client.CallToolAsync(request, ct);
            }

            var message = new JsonRpcRequest
            {
                Id = OrderedRelayTransport.Session.NewRequestId(),
                Method = RequestMethods.ToolsCall,
                Params = JsonSerializer.SerializeToNode(request, McpJsonUtilities.DefaultOptions),
            };
            JsonRpcMessage? answer = null;
            if (_direct is not null && HttpDirectRequests.Applies(client.NegotiatedProtocolVersion))
            {
                try
                {
                    answer = await _direct.SendAsync(message, session.SessionId, client.NegotiatedProtocolVersion!, live.Relay, session, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    session.SendCancelled(message.Id);
                    throw;
                }
            }

            answer ??= await session.SendRequestAsync(message, ct);
            return answer switch
            {
                JsonRpcError error => throw HttpDirectRequests.RemoteError(error),
                JsonRpcResponse response => JsonSerializer.Deserialize<CallToolResult>(response.Result, McpJsonUtilities.DefaultOptions)
                    ?? throw new JsonException("Unexpected JSON result in response."),
                _ => throw new McpException("Invalid response type"),
            };
        }, cancellationToken);

    public UpstreamUnavailableException Unavailable() =>
        new(Name, _firstAttempt.Task.IsCompleted ? _lastError ?? "reconnecting" : "still connecting");

    /// <summary>Runs until <paramref name="stoppingToken"/>: connect, serve, and on failure reconnect with exponential back-off.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var backoff = InitialBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            McpClient? client = null;
            try
            {
                client = await ConnectAsync(stoppingToken);
                // Connected means usable: the lists are loaded before anyone sees this upstream as up.
                var lists = await FetchSettledListsAsync(client, stoppingToken);
                _unresponsive = null;
                _live = _connecting;
                _client = client;
                _lists = lists;
                ListsChanged?.Invoke(this);
                if (Interlocked.Exchange(ref _changedWhileConnecting, 0) == 1)
                {
                    // A list_changed slipped in between the last fetch and now.
                    _ = OnUpstreamListChangedAsync(stoppingToken).AsTask();
                }

                LogUpstreamConnected(_logger, Name, lists.Tools.Count);
                _firstAttempt.TrySetResult();
                backoff = InitialBackoff;
                using var pings = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var pinging = PingLoopAsync(client, pings.Token);
                try
                {
                    var completion = await client.Completion.WaitAsync(stoppingToken);
                    _lastError = UpstreamText.Reason(Describe(completion));
                }
                finally
                {
                    await pings.CancelAsync();
                    await pinging;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _lastError = UpstreamText.Reason(e.Message);
            }
            finally
            {
                _client = null;
                _live = null;
                _unresponsive = null;
                if (client is not null)
                {
                    await DisposeQuietlyAsync(client);
                }
            }

            _firstAttempt.TrySetResult();
            if (stoppingToken.IsCancellationRequested)
            {
                break;
            }

            // The lists stay as they were: the catalogue keeps this upstream's tools, which answer
            // "unavailable" until it is back (and a changed list is announced when it is).
            Interlocked.Increment(ref _restarts);
            LogUpstreamDown(_logger, Name, _lastError ?? "unknown", backoff.TotalSeconds);
            try
            {
                await Task.Delay(backoff, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private static string Describe(ClientCompletionDetails completion) => completion switch
    {
        { Exception: { } e } => e.Message,
        StdioClientCompletionDetails { ExitCode: { } code } => $"the upstream process exited with code {code}",
        _ => "the upstream closed the connection",
    };

    /// <summary>
    /// A hung upstream (stopped process, stuck server) keeps its connection open and answers nothing;
    /// only a request shows it. An answer of any kind, even an error, proves it alive.
    /// </summary>
    private async Task PingLoopAsync(McpClient client, CancellationToken cancellationToken)
    {
        var interval = _options.PingInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            while (true)
            {
                await Task.Delay(interval, _time, cancellationToken);
                using var timeout = new CancellationTokenSource(interval, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
                bool answered;
                try
                {
                    await client.PingAsync(cancellationToken: linked.Token);
                    answered = true;
                }
                catch (McpProtocolException)
                {
                    answered = true;
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    answered = false;
                }

                if (answered && _unresponsive is not null)
                {
                    _unresponsive = null;
                    LogUpstreamResponsive(_logger, Name);
                }
                else if (!answered && _unresponsive is null)
                {
                    _unresponsive = $"unresponsive: no answer to ping within {UpstreamText.Duration(interval)}";
                    LogUpstreamUnresponsive(_logger, Name, interval.TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The connection ended or the gateway stops.
        }
        catch (Exception e)
        {
            // The transport failed; the connection's completion reports why and the loop reconnects.
            LogPingFailed(_logger, Name, e.Message);
        }
    }

    private async Task<McpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        IClientTransport transport = _options.Url is { Length: > 0 } url
            ? new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = new Uri(url),
                    Name = Name,
                    AdditionalHeaders = _options.Headers,
                    TransportMode = HttpTransportMode.StreamableHttp,
                },
                _loggerFactory)
            : new StdioClientTransport(
                new StdioClientTransportOptions
                {
                    Name = Name,
                    Command = _options.Command!,
                    Arguments = _options.Args,
                    WorkingDirectory = _options.WorkingDirectory,
                    EnvironmentVariables = _options.Env.ToDictionary(p => p.Key, p => (string?)p.Value),
                    StandardErrorLines = line => LogUpstreamStderr(_logger, Name, line),
                },
                _loggerFactory);

        // Progress, logging and resource updates bypass the SDK's handlers: relayed in order, before later responses.
        var relay = new OrderedRelayTransport(
            transport, RelayedNotifications, (n, ct) => _bridge.OnNotificationAsync(this, n.Method, n.Params, ct), _time, _logger);

        var options = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "approvalbot-gateway", Version = GatewayInfo.Version },
            // The version the front speaks: what agents send (resources/subscribe, logging/setLevel) exists
            // upstream too. Left open, an upstream on 2026-07-28 would have neither.
            ProtocolVersion = "2025-11-25",
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, ct) => _bridge.SampleAsync(this, request, ct),
                ElicitationHandler = (request, ct) => _bridge.ElicitAsync(this, request, ct),
                RootsHandler = (request, ct) => _bridge.ListRootsAsync(this, request, ct),
                NotificationHandlers =
                [
                    new(NotificationMethods.ToolListChangedNotification, (n, ct) => OnUpstreamListChangedAsync(ct)),
                    new(NotificationMethods.PromptListChangedNotification, (n, ct) => OnUpstreamListChangedAsync(ct)),
                    new(NotificationMethods.ResourceListChangedNotification, (n, ct) => OnUpstreamListChangedAsync(ct)),
                ],
            },
        };

        var client = await McpClient.CreateAsync(relay, options, _loggerFactory, cancellationToken);
        _connecting = new LiveSession(client, relay, relay.Current);
        return client;
    }

    /// <summary>
    /// Fetches until no list_changed arrived meanwhile: servers often add tools right after the
    /// handshake (server-everything registers its capability-dependent tools then), and a first
    /// catalogue must not miss them.
    /// </summary>
    private async Task<UpstreamLists> FetchSettledListsAsync(McpClient client, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            Interlocked.Exchange(ref _changedWhileConnecting, 0);
            var lists = await FetchListsAsync(client, cancellationToken);
            if (Interlocked.Exchange(ref _changedWhileConnecting, 0) == 0 || attempt == 2)
            {
                return lists;
            }
        }
    }

    private async ValueTask OnUpstreamListChangedAsync(CancellationToken cancellationToken)
    {
        if (_client is not { } client)
        {
            // Still connecting: the fetch under way is repeated (FetchSettledListsAsync).
            Interlocked.Exchange(ref _changedWhileConnecting, 1);
            return;
        }

        try
        {
            var lists = await FetchListsAsync(client, cancellationToken);
            if (ReferenceEquals(_client, client))
            {
                _lists = lists;
                ListsChanged?.Invoke(this);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUpstreamListFailed(_logger, Name, e.Message);
        }
    }

    private async Task<UpstreamLists> FetchListsAsync(McpClient client, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.CallTimeout);
        var capabilities = client.ServerCapabilities;
        // The SDK's list calls follow nextCursor, so these are whole lists.
        var tools = capabilities?.Tools is null ? [] : (await client.ListToolsAsync(cancellationToken: timeout.Token)).Select(t => t.ProtocolTool).ToList();
        var prompts = capabilities?.Prompts is null ? [] : (await client.ListPromptsAsync(cancellationToken: timeout.Token)).Select(p => p.ProtocolPrompt).ToList();
        List<Resource> resources = [];
        List<ResourceTemplate> templates = [];
        if (capabilities?.Resources is not null)
        {
            resources = (await client.ListResourcesAsync(cancellationToken: timeout.Token)).Select(r => r.ProtocolResource).ToList();
            templates = (await client.ListResourceTemplatesAsync(cancellationToken: timeout.Token)).Select(r => r.ProtocolResourceTemplate).ToList();
        }

        return new UpstreamLists(tools, prompts, resources, templates, capabilities);
    }

    private static async Task DisposeQuietlyAsync(McpClient client)
    {
        try
        {
            await client.DisposeAsync();
        }
        catch (Exception)
        {
            // The connection is already gone; nothing useful to report.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is { } client)
        {
            await DisposeQuietlyAsync(client);
        }

        _direct?.Dispose();
    }

    /// <summary>The connected client with the relay session its requests go through.</summary>
    private sealed record LiveSession(McpClient Client, OrderedRelayTransport Relay, OrderedRelayTransport.Session? Session);

    [LoggerMessage(EventName = "UpstreamConnected", Level = LogLevel.Information, Message = "Upstream {Upstream} connected with {Tools} tools")]
    private static partial void LogUpstreamConnected(ILogger logger, string upstream, int tools);

    [LoggerMessage(EventName = "UpstreamDown", Level = LogLevel.Warning, Message = "Upstream {Upstream} is down ({Reason}); reconnecting in {Seconds} s")]
    private static partial void LogUpstreamDown(ILogger logger, string upstream, string reason, double seconds);

    [LoggerMessage(EventName = "UpstreamListFailed", Level = LogLevel.Warning, Message = "Upstream {Upstream} lists could not be refreshed: {Reason}")]
    private static partial void LogUpstreamListFailed(ILogger logger, string upstream, string reason);

    [LoggerMessage(EventName = "UpstreamStderr", Level = LogLevel.Debug, Message = "Upstream {Upstream} stderr: {Line}")]
    private static partial void LogUpstreamStderr(ILogger logger, string upstream, string line);

    [LoggerMessage(EventName = "UpstreamUnresponsive", Level = LogLevel.Warning, Message = "Upstream {Upstream} is unresponsive: no answer to ping within {Seconds} s")]
    private static partial void LogUpstreamUnresponsive(ILogger logger, string upstream, double seconds);

    [LoggerMessage(EventName = "UpstreamResponsive", Level = LogLevel.Information, Message = "Upstream {Upstream} answers pings again")]
    private static partial void LogUpstreamResponsive(ILogger logger, string upstream);

    [LoggerMessage(EventName = "UpstreamPingFailed", Level = LogLevel.Debug, Message = "Upstream {Upstream} ping failed: {Reason}")]
    private static partial void LogPingFailed(ILogger logger, string upstream, string reason);

    [LoggerMessage(EventName = "UpstreamTimedOut", Level = LogLevel.Warning, Message = "Upstream {Upstream} did not answer {Method} within {Seconds} s; the request was cancelled")]
    private static partial void LogForwardTimedOut(ILogger logger, string upstream, string method, double seconds);
}
