using ApprovalBot.Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>
/// Owns every configured upstream connection and the merged, prefixed catalogue over them. The
/// catalogue counts as complete once every upstream has finished its first connection attempt
/// (or <c>Gateway:StartupWait</c> has passed); the front shows no list before that, so a client
/// that lists once sees every tool.
/// </summary>
public sealed partial class UpstreamRegistry : BackgroundService
{
    private readonly IReadOnlyList<UpstreamConnection> _connections;
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly GatewayStartupFailure? _startupFailure;
    private readonly object _rebuildLock = new();
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile ToolCatalog _catalog = ToolCatalog.Empty;

    public UpstreamRegistry(
        GatewayOptions options,
        IUpstreamBridge bridge,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        IHostApplicationLifetime? lifetime = null,
        GatewayStartupFailure? startupFailure = null)
    {
        _options = options;
        _time = time;
        _logger = loggerFactory.CreateLogger<UpstreamRegistry>();
        _lifetime = lifetime;
        _startupFailure = startupFailure;
        _connections = options.Upstreams
            .Where(p => p.Value.Enabled)
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new UpstreamConnection(p.Key, p.Value, bridge, time, loggerFactory))
            .ToList();
        foreach (var connection in _connections)
        {
            connection.ListsChanged += OnListsChanged;
        }
    }

    public IReadOnlyList<UpstreamConnection> Connections => _connections;

    /// <summary>The merged catalogue as it is now (rebuilt whenever an upstream's lists change).</summary>
    public ToolCatalog Catalog => _catalog;

    /// <summary>Raised after <see cref="Catalog"/> was rebuilt; it may or may not differ from before.</summary>
    public event Action? CatalogChanged;

    /// <summary>True once the first catalogue is complete (every first attempt done, or StartupWait passed).</summary>
    public bool CatalogComplete => _complete.Task.IsCompletedSuccessfully;

    /// <summary>Returns at once after start-up; before, waits until the catalogue is complete.</summary>
    public ValueTask WaitForCatalogAsync(CancellationToken cancellationToken) =>
        _complete.Task.IsCompletedSuccessfully ? ValueTask.CompletedTask : new ValueTask(_complete.Task.WaitAsync(cancellationToken));

    /// <summary>
    /// The tool of that exposed name. A name not (yet) known waits for the start-up catalogue, so a
    /// call to a tool of an upstream still connecting is not answered "unknown tool".
    /// </summary>
    public async ValueTask<CatalogTool?> FindToolAsync(string name, CancellationToken cancellationToken)
    {
        if (_catalog.ToolsByName.TryGetValue(name, out var tool) || _complete.Task.IsCompletedSuccessfully)
        {
            return tool;
        }

        await WaitForCatalogAsync(cancellationToken);
        return _catalog.ToolsByName.GetValueOrDefault(name);
    }

    /// <summary>Waits until every upstream has tried to connect once (or the token fires).</summary>
    public Task WhenFirstAttemptsDoneAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_connections.Select(c => c.FirstAttempt)).WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = Task.WhenAll(_connections.Select(c => c.RunAsync(stoppingToken)));
        await CompleteCatalogAsync(stoppingToken);
        await running;
    }

    private async Task CompleteCatalogAsync(CancellationToken stoppingToken)
    {
        var firstAttempts = Task.WhenAll(_connections.Select(c => c.FirstAttempt));
        if (_options.StartupWait > TimeSpan.Zero)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            await Task.WhenAny(firstAttempts, Task.Delay(_options.StartupWait, _time, wait.Token));
            await wait.CancelAsync();
        }

        if (stoppingToken.IsCancellationRequested)
        {
            _complete.TrySetCanceled(stoppingToken);
            return;
        }

        if (firstAttempts.IsCompleted && _catalog.Collisions.Count > 0)
        {
            // Two configured upstreams claim the same name: a configuration error, refused like one.
            var collisions = _catalog.Collisions;
            // Nothing is kept at start-up: the two are named in a fixed order, not in the order they happened to connect.
            var first = string.CompareOrdinal(collisions[0].Kept, collisions[0].Refused) <= 0
                ? collisions[0]
                : collisions[0] with { Kept = collisions[0].Refused, Refused = collisions[0].Kept };
            var message = first.Describe()
                + (collisions.Count > 1 ? $" (and {collisions.Count - 1} more name(s))" : "")
                + $"; give one of them another Prefix (ApprovalBot:Gateway:Upstreams:{first.Refused}:Prefix).";
            LogStartupCollision(_logger, message);
            _startupFailure?.Fail(message);
            _complete.TrySetException(new McpException("The gateway is stopping: " + message));
            _ = _complete.Task.Exception;
            _lifetime?.StopApplication();
            return;
        }

        if (!firstAttempts.IsCompleted)
        {
            var waiting = string.Join(", ", _connections.Where(c => !c.FirstAttempt.IsCompleted).Select(c => c.Name));
            LogStillConnecting(_logger, waiting, _options.StartupWait.TotalSeconds);
        }

        var catalog = _catalog;
        LogCatalogComplete(_logger, catalog.Tools.Count, _connections.Count(c => c.Connected), _connections.Count);
        _complete.TrySetResult();
    }

    private void OnListsChanged(UpstreamConnection changed)
    {
        List<CatalogCollision> appeared;
        lock (_rebuildLock)
        {
            var previous = _catalog;
            var next = ToolCatalog.Build(_connections, previous);
            _catalog = next;
            appeared = next.Collisions.Where(c => !previous.Collisions.Contains(c)).ToList();
        }

        // Before the first catalogue is complete, the start-up check refuses collisions instead.
        if (_complete.Task.IsCompleted)
        {
            foreach (var collision in appeared)
            {
                LogRuntimeCollision(_logger, collision.Describe(), collision.Kept);
            }
        }

        try
        {
            CatalogChanged?.Invoke();
        }
        catch (Exception e)
        {
            // A listener's failure must not take the upstream's connection loop down.
            LogCatalogListenerFailed(_logger, e.Message);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    [LoggerMessage(EventName = "UpstreamNameCollisionAtStartup", Level = LogLevel.Critical, Message = "Refusing to start: {Problem}")]
    private static partial void LogStartupCollision(ILogger logger, string problem);

    [LoggerMessage(EventName = "UpstreamNameCollision", Level = LogLevel.Error, Message = "{Problem}; keeping the one of upstream {Kept}, which was there first. Give the other upstream another Prefix.")]
    private static partial void LogRuntimeCollision(ILogger logger, string problem, string kept);

    [LoggerMessage(EventName = "UpstreamsStillConnecting", Level = LogLevel.Warning, Message = "Upstreams {Upstreams} still connecting after the start-up wait of {Seconds} s; lists are served without them, and sessions hear list_changed when they arrive")]
    private static partial void LogStillConnecting(ILogger logger, string upstreams, double seconds);

    [LoggerMessage(EventName = "CatalogComplete", Level = LogLevel.Information, Message = "Catalogue complete: {Tools} tools from {Connected} of {Upstreams} upstreams")]
    private static partial void LogCatalogComplete(ILogger logger, int tools, int connected, int upstreams);

    [LoggerMessage(EventName = "CatalogListenerFailed", Level = LogLevel.Error, Message = "A catalogue listener failed: {Reason}")]
    private static partial void LogCatalogListenerFailed(ILogger logger, string reason);
}

/// <summary>
/// Set when the gateway refuses to go on after starting (a configuration problem only visible once
/// the upstreams answered); the executable reports it and exits with code 2.
/// </summary>
public sealed class GatewayStartupFailure
{
    private volatile string? _reason;

    public string? Reason => _reason;

    public void Fail(string reason) => _reason ??= reason;
}
