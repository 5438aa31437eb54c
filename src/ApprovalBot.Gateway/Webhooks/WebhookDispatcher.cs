using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Webhooks;

/// <summary>
/// Delivers the outbox: each due event POSTed, signed, to its webhook; a 2xx answer delivers it,
/// anything else (or no answer within the webhook's timeout) retries it with exponential back-off
/// (1 s, 2 s, 4 s … at most 10 min) until <see cref="WebhookOptions.RetryFor"/> has passed, then it
/// is given up. State lives in the database, so a restart resumes where it stopped. Runs beside the
/// calls, never in front of them: a dead receiver only grows the outbox.
/// </summary>
public sealed partial class WebhookDispatcher(
    GatewayStore store,
    WebhookSettings settings,
    WebhookRouter router,
    IHttpClientFactory httpClients,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string HttpClientName = "approvalbot-webhooks";
    private const int BatchSize = 20;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(10);

    /// <summary>Checked even without a doorbell: another process may have queued (shared store) or a clock may jump.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, WebhookRuntime> _runtime = new(StringComparer.Ordinal);

    /// <summary>What this process saw per webhook since it started (the database holds the backlog).</summary>
    public IReadOnlyDictionary<string, WebhookRuntime> Runtime => _runtime;

    /// <summary>The delay before attempt <paramref name="failures"/> + 1.</summary>
    public static TimeSpan Backoff(int failures)
    {
        var seconds = Math.Pow(2, Math.Clamp(failures - 1, 0, 20));
        return TimeSpan.FromSeconds(Math.Min(seconds, MaxBackoff.TotalSeconds));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Webhooks.Count == 0)
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                int delivered;
                try
                {
                    delivered = await DeliverDueAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogDispatchFailed(logger, e.Message);
                    delivered = 0;
                }

                if (delivered < BatchSize)
                {
                    await SleepAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over what is due now; returns how many deliveries were attempted.</summary>
    public async Task<int> DeliverDueAsync(CancellationToken cancellationToken)
    {
        // Long enough for a whole batch to one slow receiver, one attempt after another.
        var leaseFor = settings.Webhooks.Values.Max(w => w.Timeout) * BatchSize + TimeSpan.FromSeconds(30);
        var due = await store.LeaseDueDeliveriesAsync(time.GetUtcNow(), BatchSize, leaseFor, cancellationToken);
        // Webhooks side by side, each one's events in order: one slow receiver does not hold up the others.
        await Task.WhenAll(due.GroupBy(d => d.Webhook).Select(async group =>
        {
            foreach (var delivery in group)
            {
                await DeliverAsync(delivery, cancellationToken);
            }
        }));
        return due.Count;
    }

    private async Task DeliverAsync(OutboxDelivery delivery, CancellationToken cancellationToken)
    {
        var runtime = _runtime.GetOrAdd(delivery.Webhook, _ => new WebhookRuntime());
        if (!settings.Webhooks.TryGetValue(delivery.Webhook, out var webhook))
        {
            // Removed from configuration since it was queued: nobody to send it to.
            await store.MarkAttemptFailedAsync(delivery.Id, time.GetUtcNow(), "webhook no longer configured", null, cancellationToken);
            return;
        }

        string? error;
        try
        {
            error = await PostAsync(webhook, delivery, cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"no answer within {webhook.Timeout.TotalSeconds:0.###} s";
        }
        catch (HttpRequestException e)
        {
            error = e.HttpRequestError == HttpRequestError.Unknown ? e.Message : $"{e.HttpRequestError}: {e.Message}";
        }

        var now = time.GetUtcNow();
        if (error is null)
        {
            await store.MarkDeliveredAsync(delivery.Id, now, cancellationToken);
            runtime.Succeeded(now);
            LogDelivered(logger, delivery.Event, delivery.EventId, delivery.Webhook, delivery.Attempts + 1);
            return;
        }

        var failures = delivery.Attempts + 1;
        var retryAt = now + Backoff(failures);
        var givenUp = retryAt - delivery.CreatedAt > webhook.RetryFor;
        await store.MarkAttemptFailedAsync(delivery.Id, now, error, givenUp ? null : retryAt, cancellationToken);
        runtime.Failed(error);
        if (givenUp)
        {
            LogGivenUp(logger, delivery.Event, delivery.EventId, delivery.Webhook, failures, error);
        }
        else
        {
            LogAttemptFailed(logger, delivery.Event, delivery.EventId, delivery.Webhook, failures, error, retryAt);
        }
    }

    /// <summary>One signed POST; null when the receiver took it (2xx), else why not.</summary>
    private async Task<string?> PostAsync(WebhookOptions webhook, OutboxDelivery delivery, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(HttpClientName);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
        {
            Content = new StringContent(delivery.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(webhook.Secret!, timestamp, delivery.Body));
        request.Headers.Add(WebhookSignature.EventHeader, delivery.Event);
        request.Headers.Add(WebhookSignature.DeliveryHeader, delivery.EventId.ToString());
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("ApprovalBot-Webhooks", GatewayInfo.Version));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(webhook.Timeout);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
    }

    /// <summary>Until the next delivery falls due, new ones are queued, or the poll interval passes.</summary>
    private async Task SleepAsync(CancellationToken stoppingToken)
    {
        var next = await store.NextDeliveryDueAsync(stoppingToken);
        var wait = next is { } due ? due - time.GetUtcNow() : Poll;
        if (wait <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new CancellationTokenSource(wait < Poll ? wait : Poll, time);
        using var sleep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, timer.Token);
        try
        {
            if (await router.Queued.WaitToReadAsync(sleep.Token))
            {
                router.Queued.TryRead(out _);
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventName = "WebhookDelivered", Level = LogLevel.Debug, Message = "{Event} {EventId} delivered to webhook {Webhook} (attempt {Attempt})")]
    private static partial void LogDelivered(ILogger logger, string @event, Guid eventId, string webhook, int attempt);

    [LoggerMessage(EventName = "WebhookAttemptFailed", Level = LogLevel.Warning, Message = "{Event} {EventId} not delivered to webhook {Webhook} (attempt {Attempt}): {Reason}; retrying at {RetryAt}")]
    private static partial void LogAttemptFailed(ILogger logger, string @event, Guid eventId, string webhook, int attempt, string reason, DateTimeOffset retryAt);

    [LoggerMessage(EventName = "WebhookGivenUp", Level = LogLevel.Error, Message = "{Event} {EventId} given up for webhook {Webhook} after {Attempts} attempts: {Reason}")]
    private static partial void LogGivenUp(ILogger logger, string @event, Guid eventId, string webhook, int attempts, string reason);

    [LoggerMessage(EventName = "WebhookDispatchFailed", Level = LogLevel.Warning, Message = "Webhook outbox pass failed (will retry): {Reason}")]
    private static partial void LogDispatchFailed(ILogger logger, string reason);
}

/// <summary>One webhook's recent outcomes in this process.</summary>
public sealed class WebhookRuntime
{
    private readonly Lock _gate = new();

    public DateTimeOffset? LastDeliveredAt { get; private set; }
    public string? LastError { get; private set; }
    public int ConsecutiveFailures { get; private set; }

    public void Succeeded(DateTimeOffset at)
    {
        lock (_gate)
        {
            LastDeliveredAt = at;
            ConsecutiveFailures = 0;
        }
    }

    public void Failed(string error)
    {
        lock (_gate)
        {
            LastError = error;
            ConsecutiveFailures++;
        }
    }
}
