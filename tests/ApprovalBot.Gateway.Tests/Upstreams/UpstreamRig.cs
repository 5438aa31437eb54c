using System.Text.Json.Nodes;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Upstreams;
using ApprovalBot.Tests.Upstreams;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Tests.Upstreams;

/// <summary>An <see cref="UpstreamRegistry"/> over in-process upstreams, started and stopped by the test.</summary>
public sealed class UpstreamRig : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<InProcessUpstream> _servers;

    private UpstreamRig(UpstreamRegistry registry, List<InProcessUpstream> servers, GatewayStartupFailure failure)
    {
        Registry = registry;
        _servers = servers;
        StartupFailure = failure;
    }

    public UpstreamRegistry Registry { get; }

    public GatewayStartupFailure StartupFailure { get; }

    public ToolCatalog Catalog => Registry.Catalog;

    public UpstreamConnection Connection(string name) => Registry.Connections.Single(c => c.Name == name);

    /// <summary>Builds the registry over (name, server, prefix) and starts it; does not wait for anything.</summary>
    public static async Task<UpstreamRig> StartAsync(
        IEnumerable<(string Name, InProcessUpstream Server, string? Prefix)> upstreams, TimeProvider? time = null, TimeSpan? callTimeout = null,
        Dictionary<string, string>? headers = null, TimeSpan? startupWait = null)
    {
        var list = upstreams.ToList();
        var options = new GatewayOptions
        {
            Upstreams = list.ToDictionary(
                u => u.Name,
                u => new UpstreamOptions
                {
                    Url = u.Server.Url,
                    Prefix = u.Prefix,
                    PingInterval = TimeSpan.Zero,
                    CallTimeout = callTimeout ?? TimeSpan.FromMinutes(1),
                    Headers = headers ?? new(StringComparer.OrdinalIgnoreCase),
                }),
            StartupWait = startupWait ?? TimeSpan.FromSeconds(30),
        };
        var failure = new GatewayStartupFailure();
        var registry = new UpstreamRegistry(options, new NoBridge(), time ?? TimeProvider.System, NullLoggerFactory.Instance, null, failure);
        var rig = new UpstreamRig(registry, list.Select(u => u.Server).ToList(), failure);
        await registry.StartAsync(rig._stop.Token);
        return rig;
    }

    /// <summary>Waits (bounded) until every upstream's first attempt is done and the start-up catalogue is settled either way.</summary>
    public async Task WaitForFirstAttemptsAsync()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Registry.WhenFirstAttemptsDoneAsync(bound.Token);
        try
        {
            await Registry.WaitForCatalogAsync(bound.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A refused start-up catalogue: the test looks at it.
        }
    }

    /// <summary>Waits (bounded) until the catalogue satisfies <paramref name="condition"/>.</summary>
    public async Task<ToolCatalog> WaitForCatalogAsync(Func<ToolCatalog, bool> condition, string what)
    {
        var changed = new SemaphoreSlim(0);
        void OnChanged() => changed.Release();
        Registry.CatalogChanged += OnChanged;
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!condition(Registry.Catalog))
            {
                try
                {
                    await changed.WaitAsync(bound.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"Gave up waiting for {what}; the catalogue has {string.Join(", ", Registry.Catalog.Tools.Select(t => t.ExposedName))}");
                }
            }

            return Registry.Catalog;
        }
        finally
        {
            Registry.CatalogChanged -= OnChanged;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Registry.StopAsync(CancellationToken.None);
        Registry.Dispose();
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private sealed class NoBridge : IUpstreamBridge
    {
        public ValueTask<CreateMessageResult> SampleAsync(UpstreamConnection upstream, CreateMessageRequestParams? request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ElicitResult> ElicitAsync(UpstreamConnection upstream, ElicitRequestParams? request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<ListRootsResult> ListRootsAsync(UpstreamConnection upstream, ListRootsRequestParams? request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask OnNotificationAsync(UpstreamConnection upstream, string method, JsonNode? parameters, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask OnListChangedAsync(string method, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
