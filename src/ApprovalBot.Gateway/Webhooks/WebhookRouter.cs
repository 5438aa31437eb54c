using System.Text.Json;
using System.Threading.Channels;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Webhooks;

/// <summary>The configured webhooks that are enabled, by name.</summary>
public sealed record WebhookSettings(IReadOnlyDictionary<string, WebhookOptions> Webhooks)
{
    public static readonly WebhookSettings None = new(new Dictionary<string, WebhookOptions>());
}

/// <summary>
/// Turns audit rows into webhook deliveries inside the audit writer's transaction (the outbox), and
/// wakes the dispatcher once they are committed. Builds each body once; every subscribed webhook
/// gets the same bytes and the same event id.
/// </summary>
public sealed partial class WebhookRouter(WebhookSettings settings, GatewayInstance instance, ILogger<WebhookRouter> logger) : IAuditOutbox
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly WebhookSettings _settings = settings;

    // Which webhooks take each event, in configuration order, worked out once: Wants and Messages run
    // for every audit row inside the audit writer's transaction, and the settings do not change.
    private readonly Dictionary<string, string[]> _subscribers =
        WebhookEvents.All.ToDictionary(name => name, name => SubscribersOf(settings, name), StringComparer.Ordinal);

    /// <summary>Completes when deliveries were queued since the last read (the dispatcher's doorbell).</summary>
    public ChannelReader<bool> Queued => _wake.Reader;

    public bool Wants(AuditEntry entry) =>
        _settings.Webhooks.Count > 0 && WebhookEvents.For(entry) is { } name && Subscribers(name).Length > 0;

    public IEnumerable<OutboxMessage> Messages(AuditEntry entry, ApprovalRecord? approval)
    {
        if (WebhookEvents.For(entry) is not { } name)
        {
            return [];
        }

        string body;
        var id = Guid.CreateVersion7(entry.At);
        try
        {
            body = JsonSerializer.Serialize(ToEvent(id, name, entry, approval), WebhookEvent.Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            // Never fail the audit write over an event body.
            LogBodyFailed(logger, name, entry.ApprovalId, e.Message);
            return [];
        }

        return Subscribers(name).Select(webhook => new OutboxMessage(webhook, id, name, body, entry.At)).ToList();
    }

    /// <summary>Called after the audit transaction committed deliveries.</summary>
    public void Committed(int deliveries)
    {
        if (deliveries > 0)
        {
            _wake.Writer.TryWrite(true);
        }
    }

    public WebhookEvent ToEvent(Guid id, string name, AuditEntry entry, ApprovalRecord? approval) => new(
        WebhookEvent.CurrentVersion,
        id,
        name,
        entry.At,
        instance.Id,
        AuditDecisions.Present(entry.Decision, entry.ApprovalId is not null),
        entry.Agent,
        entry.Tool,
        entry.Rule,
        entry.Reason,
        entry.Digest,
        entry.Actor is { } actor ? new WebhookActor(actor, entry.Channel) : null,
        approval is null ? null : WebhookApproval.From(approval),
        entry.Decision is "executed" or "execution_failed" ? new WebhookExecution(entry.Decision == "executed", entry.DurationMs, entry.Reason) : null);

    // WebhookEvents.For raises only names in All; an event missing there would still be matched, just not cached.
    private string[] Subscribers(string name) => _subscribers.TryGetValue(name, out var webhooks) ? webhooks : SubscribersOf(_settings, name);

    private static string[] SubscribersOf(WebhookSettings settings, string name) =>
        settings.Webhooks.Where(w => w.Value.Subscribes(name)).Select(w => w.Key).ToArray();

    [LoggerMessage(EventName = "WebhookBodyFailed", Level = LogLevel.Error, Message = "No {Event} webhook for approval {ApprovalId}: the body could not be built: {Reason}")]
    private static partial void LogBodyFailed(ILogger logger, string @event, Guid? approvalId, string reason);
}
