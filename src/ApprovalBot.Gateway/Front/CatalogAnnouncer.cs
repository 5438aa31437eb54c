using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Upstreams;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Front;

/// <summary>
/// Tells every agent session when what it would list has changed: an upstream connected,
/// reconnected with other tools or sent its own list_changed, or a policy reload hid or showed a
/// tool. Compares what agents see (after hiding), so an unchanged list is not announced and a
/// changed one always is; bursts of changes are announced once.
/// </summary>
public sealed partial class CatalogAnnouncer : BackgroundService
{
    private readonly UpstreamRegistry _upstreams;
    private readonly PolicyStore _policies;
    private readonly IUpstreamBridge _sessions;
    private readonly ILogger<CatalogAnnouncer> _logger;
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public CatalogAnnouncer(UpstreamRegistry upstreams, PolicyStore policies, IUpstreamBridge sessions, ILogger<CatalogAnnouncer> logger)
    {
        _upstreams = upstreams;
        _policies = policies;
        _sessions = sessions;
        _logger = logger;
        // Subscribed at construction, before any hosted service starts, so no change is missed.
        upstreams.CatalogChanged += Signal;
        policies.Reloaded += _ => Signal();
    }

    /// <summary>What the sessions were last told about (the empty catalogue before the first announcement).</summary>
    public CatalogFingerprint Announced { get; private set; } = CatalogFingerprint.Of([], [], [], []);

    /// <summary>What an agent's lists look like now, one digest per list kind.</summary>
    public CatalogFingerprint Current()
    {
        var catalog = _upstreams.Catalog;
        var policy = _policies.Current;
        return CatalogFingerprint.Of(
            catalog.Tools.Where(t => !policy.IsHidden(t.ExposedName)).Select(t => t.Exposed).ToList(),
            catalog.Prompts.Select(p => p.Exposed).ToList(),
            catalog.Resources.Select(r => r.Resource).ToList(),
            catalog.Templates.Select(t => t.Template).ToList());
    }

    private void Signal() => _signals.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The baseline is the empty catalogue: the first upstream to connect is announced too.
        var announced = Announced;
        Signal();
        try
        {
            await foreach (var _ in _signals.Reader.ReadAllAsync(stoppingToken))
            {
                var now = Current();
                if (now.Tools != announced.Tools)
                {
                    await AnnounceAsync(NotificationMethods.ToolListChangedNotification, stoppingToken);
                }

                if (now.Prompts != announced.Prompts)
                {
                    await AnnounceAsync(NotificationMethods.PromptListChangedNotification, stoppingToken);
                }

                if (now.Resources != announced.Resources)
                {
                    await AnnounceAsync(NotificationMethods.ResourceListChangedNotification, stoppingToken);
                }

                Announced = announced = now;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task AnnounceAsync(string method, CancellationToken cancellationToken)
    {
        LogListChanged(_logger, method);
        try
        {
            await _sessions.OnListChangedAsync(method, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAnnounceFailed(_logger, method, e.Message);
        }
    }

    [LoggerMessage(EventName = "CatalogListChanged", Level = LogLevel.Information, Message = "Announcing {Method} to the agent sessions")]
    private static partial void LogListChanged(ILogger logger, string method);

    [LoggerMessage(EventName = "CatalogAnnounceFailed", Level = LogLevel.Warning, Message = "Announcing {Method} failed: {Reason}")]
    private static partial void LogAnnounceFailed(ILogger logger, string method, string reason);
}

/// <summary>Digests of the tools (after hiding), prompts, and resources with templates that agents see.</summary>
public sealed record CatalogFingerprint(string Tools, string Prompts, string Resources)
{
    public static CatalogFingerprint Of(IList<Tool> tools, IList<Prompt> prompts, IList<Resource> resources, IList<ResourceTemplate> templates) => new(
        Digest(new ListToolsResult { Tools = tools }),
        Digest(new ListPromptsResult { Prompts = prompts }),
        Digest(new ListResourcesResult { Resources = resources }) + Digest(new ListResourceTemplatesResult { ResourceTemplates = templates }));

    // The protocol's own result types, so the SDK's serializer settings (and source-generated contracts) apply.
    private static string Digest<T>(T value) =>
        Convert.ToHexString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(value, McpJsonUtilities.DefaultOptions)));
}
