using System.Text.Json;
using ApprovalBot.Gateway.Configuration;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>
/// One upstream MCP server, kept connected: connects with the SDK's client, caches its lists,
/// follows its list_changed notifications, and reconnects with back-off when it dies. While it
/// is down, its tools answer with a clear error instead of hanging.
/// </summary>
public sealed partial class UpstreamConnection : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly UpstreamOptions _options;
    private readonly IUpstreamBridge _bridge;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private volatile McpClient? _client;
    private volatile UpstreamLists _lists = UpstreamLists.Empty;
    private volatile string? _lastError = "not connected yet";
    private int _restarts;

    public UpstreamConnection(string name, UpstreamOptions options, IUpstreamBridge bridge, TimeProvider time, ILoggerFactory loggerFactory)
    {
        Name = name;
        Prefix = options.Prefix ?? name + "_";
        _options = options;
        _bridge = bridge;
        _time = time;
        _loggerFactory = new NoTraceLoggerFactory(loggerFactory);
        _logger = loggerFactory.CreateLogger<UpstreamConnection>();
    }

    public string Name { get; }

    /// <summary>Put before this upstream's tool and prompt names; may be empty.</summary>
    public string Prefix { get; }

    public bool Connected => _client is not null;

    public string? LastError => _lastError;

    public int Restarts => _restarts;

    public UpstreamLists Lists => _lists;

    public string? ServerName { get; private set; }

    /// <summary>Completes once the first connection attempt has finished (either way).</summary>
    public Task FirstAttempt => _firstAttempt.Task;

    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public McpClient GetClient() =>
        _client ?? throw new McpException($"Upstream '{Name}' is unavailable ({_lastError ?? "reconnecting"}); try again shortly.");

    /// <summary>Runs until <paramref name="stoppingToken"/>: connect, serve, and on failure reconnect with exponential back-off.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            McpClient? client = null;
            try
            {
                client = await ConnectAsync(stoppingToken);
                // Connected means usable: the lists are loaded before anyone sees this upstream as up.
                await RefreshAllAsync(client, stoppingToken);
                _client = client;
                _lastError = null;
                LogUpstreamConnected(_logger, Name, _lists.Tools.Count);
                _firstAttempt.TrySetResult();
                backoff = TimeSpan.FromMilliseconds(250);
                var completion = await client.Completion.WaitAsync(stoppingToken);
                _lastError = completion.Exception?.Message ?? "the upstream closed the connection";
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _lastError = e.Message;
            }
            finally
            {
                _client = null;
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

            Interlocked.Increment(ref _restarts);
            LogUpstreamDown(_logger, Name, _lastError ?? "unknown", backoff.TotalSeconds);
            _lists = UpstreamLists.Empty;
            await _bridge.OnListChangedAsync(NotificationMethods.ToolListChangedNotification, CancellationToken.None);
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

        var options = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "approvalbot-gateway", Version = GatewayInfo.Version },
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, ct) => _bridge.SampleAsync(this, request, ct),
                ElicitationHandler = (request, ct) => _bridge.ElicitAsync(this, request, ct),
                RootsHandler = (request, ct) => _bridge.ListRootsAsync(this, request, ct),
                NotificationHandlers =
                [
                    new(NotificationMethods.ProgressNotification, (n, ct) => _bridge.OnNotificationAsync(this, n.Method, n.Params, ct)),
                    new(NotificationMethods.LoggingMessageNotification, (n, ct) => _bridge.OnNotificationAsync(this, n.Method, n.Params, ct)),
                    new(NotificationMethods.ResourceUpdatedNotification, (n, ct) => _bridge.OnNotificationAsync(this, n.Method, n.Params, ct)),
                    new(NotificationMethods.ToolListChangedNotification, (n, ct) => OnUpstreamListChangedAsync(n.Method, ct)),
                    new(NotificationMethods.PromptListChangedNotification, (n, ct) => OnUpstreamListChangedAsync(n.Method, ct)),
                    new(NotificationMethods.ResourceListChangedNotification, (n, ct) => OnUpstreamListChangedAsync(n.Method, ct)),
                ],
            },
        };

        var client = await McpClient.CreateAsync(transport, options, _loggerFactory, cancellationToken);
        ServerName = client.ServerInfo?.Name;
        return client;
    }

    private async ValueTask OnUpstreamListChangedAsync(string method, CancellationToken cancellationToken)
    {
        if (_client is { } client)
        {
            try
            {
                await RefreshAllAsync(client, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogUpstreamListFailed(_logger, Name, e.Message);
            }
        }

        await _bridge.OnListChangedAsync(method, cancellationToken);
    }

    private async Task RefreshAllAsync(McpClient client, CancellationToken cancellationToken)
    {
        var capabilities = client.ServerCapabilities;
        // The SDK's list calls follow nextCursor, so these are whole lists.
        var tools = capabilities?.Tools is null ? [] : (await client.ListToolsAsync(cancellationToken: cancellationToken)).Select(t => t.ProtocolTool).ToList();
        var prompts = capabilities?.Prompts is null ? [] : (await client.ListPromptsAsync(cancellationToken: cancellationToken)).Select(p => p.ProtocolPrompt).ToList();
        List<Resource> resources = [];
        List<ResourceTemplate> templates = [];
        if (capabilities?.Resources is not null)
        {
            resources = (await client.ListResourcesAsync(cancellationToken: cancellationToken)).Select(r => r.ProtocolResource).ToList();
            templates = (await client.ListResourceTemplatesAsync(cancellationToken: cancellationToken)).Select(r => r.ProtocolResourceTemplate).ToList();
        }

        _lists = new UpstreamLists(tools, prompts, resources, templates, capabilities);
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
    }

    [LoggerMessage(EventName = "UpstreamConnected", Level = LogLevel.Information, Message = "Upstream {Upstream} connected with {Tools} tools")]
    private static partial void LogUpstreamConnected(ILogger logger, string upstream, int tools);

    [LoggerMessage(EventName = "UpstreamDown", Level = LogLevel.Warning, Message = "Upstream {Upstream} is down ({Reason}); reconnecting in {Seconds} s")]
    private static partial void LogUpstreamDown(ILogger logger, string upstream, string reason, double seconds);

    [LoggerMessage(EventName = "UpstreamListFailed", Level = LogLevel.Warning, Message = "Upstream {Upstream} lists could not be refreshed: {Reason}")]
    private static partial void LogUpstreamListFailed(ILogger logger, string upstream, string reason);

    [LoggerMessage(EventName = "UpstreamStderr", Level = LogLevel.Debug, Message = "Upstream {Upstream} stderr: {Line}")]
    private static partial void LogUpstreamStderr(ILogger logger, string upstream, string line);
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

public static class GatewayInfo
{
    public static string Version { get; } =
        typeof(GatewayInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Copies a protocol object through JSON, so a renamed copy never aliases the upstream's.</summary>
    public static T Clone<T>(T value) =>
        JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(value, McpJsonUtilities.DefaultOptions), McpJsonUtilities.DefaultOptions)!;
}
