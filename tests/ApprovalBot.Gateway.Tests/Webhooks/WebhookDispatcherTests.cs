using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Tests.Parking;
using ApprovalBot.Gateway.Webhooks;
using Microsoft.Extensions.Logging.Abstractions;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Webhooks;

/// <summary>
/// The outbox on a controlled clock and a scripted receiver: events are queued with their audit rows,
/// signed, retried with back-off, given up after the retry period, and survive a new dispatcher
/// (a restart) over the same database.
/// </summary>
public sealed class WebhookDispatcherTests : IAsyncLifetime
{
    private const string Secret = "whsec-unit-0123456789abcdef";
    private readonly LifecycleHarness _h = new();
    private readonly ScriptedReceiver _receiver = new();
    private WebhookSettings _settings = null!;
    private WebhookRouter _router = null!;
    private AuditTrail _audit = null!;

    public async Task InitializeAsync()
    {
        await _h.InitializeAsync();
        Configure(new WebhookOptions { Url = "http://receiver.test/hook", Secret = Secret, Events = ["approval.requested,approval.decided", "call.denied"], RetryFor = TimeSpan.FromMinutes(1) });
        await _audit.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _audit.StopAsync(CancellationToken.None);
        _audit.Dispose();
        await _h.DisposeAsync();
    }

    private void Configure(WebhookOptions ops)
    {
        _settings = new WebhookSettings(new Dictionary<string, WebhookOptions> { ["ops"] = ops });
        _router = new WebhookRouter(_settings, new GatewayInstance("unit-gw"), NullLogger<WebhookRouter>.Instance);
        _audit = new AuditTrail(_h.Store, NullLogger<AuditTrail>.Instance, _router);
    }

    /// <summary>A new dispatcher over the same database: what a restarted gateway builds.</summary>
    private WebhookDispatcher NewDispatcher() =>
        new(_h.Store, _settings, _router, new ReceiverClients(_receiver), _h.Time, NullLogger<WebhookDispatcher>.Instance);

    private async Task RecordAsync(params AuditEntry[] entries)
    {
        foreach (var entry in entries)
        {
            _audit.Record(entry);
        }

        await _audit.FlushAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Only_subscribed_events_are_queued_and_each_post_is_signed_over_its_exact_body()
    {
        await RecordAsync(
            new AuditEntry(_h.Time.GetUtcNow(), "allowed", "agent-1", "echo"),
            new AuditEntry(_h.Time.GetUtcNow(), "denied", "agent-1", "awx_cancel_job", "rules.awx_cancel_job", "Use the AWX UI"),
            new AuditEntry(_h.Time.GetUtcNow(), "rate_limited", "agent-1", "sum"));

        Assert.Equal(1, await NewDispatcher().DeliverDueAsync(CancellationToken.None));

        var post = Assert.Single(_receiver.Requests);
        Assert.Equal("call.denied", post.Headers[WebhookSignature.EventHeader]);
        var timestamp = long.Parse(post.Headers[WebhookSignature.TimestampHeader]);
        Assert.Equal(_h.Time.GetUtcNow().ToUnixTimeSeconds(), timestamp);
        Assert.Equal(WebhookSignature.Sign(Secret, timestamp, post.Body), post.Headers[WebhookSignature.SignatureHeader]);
        Assert.NotEqual(WebhookSignature.Sign(Secret, timestamp, post.Body.Replace("awx_cancel_job", "awx_cancel_jobs")), post.Headers[WebhookSignature.SignatureHeader]);
        using var body = JsonDocument.Parse(post.Body);
        Assert.Equal("call.denied", body.RootElement.GetProperty("type").GetString());
        Assert.Equal("denied", body.RootElement.GetProperty("decision").GetString());
        Assert.Equal("Use the AWX UI", body.RootElement.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, body.RootElement.GetProperty("approval").ValueKind);
        Assert.Equal(post.Headers[WebhookSignature.DeliveryHeader], body.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_receiver_answering_500_gets_the_event_again_after_the_back_off_and_a_restart_loses_nothing()
    {
        _receiver.Answers.Enqueue(HttpStatusCode.InternalServerError);
        _receiver.Answers.Enqueue(HttpStatusCode.BadGateway);
        await RecordAsync(new AuditEntry(_h.Time.GetUtcNow(), "denied", "agent-1", "awx_cancel_job"));
        var first = NewDispatcher();

        Assert.Equal(1, await first.DeliverDueAsync(CancellationToken.None));
        Assert.Equal(0, await first.DeliverDueAsync(CancellationToken.None)); // not due before the back-off
        var health = await new WebhookHealthReport(_h.Store, _settings, first).GetAsync(CancellationToken.None);
        var ops = Assert.Single(health);
        Assert.True(ops.Failing);
        Assert.Equal(1, ops.Waiting);
        Assert.Equal("HTTP 500 Internal Server Error", ops.LastError);

        // The gateway restarts: a new dispatcher, nothing in memory, the same database.
        var second = NewDispatcher();
        _h.Time.Advance(WebhookDispatcher.Backoff(1));
        Assert.Equal(1, await second.DeliverDueAsync(CancellationToken.None)); // 502: once more
        _h.Time.Advance(WebhookDispatcher.Backoff(2) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, await second.DeliverDueAsync(CancellationToken.None));
        _h.Time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, await second.DeliverDueAsync(CancellationToken.None));

        Assert.Equal(3, _receiver.Requests.Count);
        Assert.Single(_receiver.Requests.Select(r => r.Body).Distinct());
        Assert.Single(_receiver.Requests.Select(r => r.Headers[WebhookSignature.DeliveryHeader]).Distinct());
        Assert.Empty(await _h.Store.ListDueDeliveriesAsync(_h.Time.GetUtcNow().AddDays(1), 10, CancellationToken.None));
        var recovered = Assert.Single(await new WebhookHealthReport(_h.Store, _settings, second).GetAsync(CancellationToken.None));
        Assert.False(recovered.Failing);
        Assert.Equal(0, recovered.Waiting);
        Assert.Equal(_h.Time.GetUtcNow(), recovered.LastDeliveredAt);
    }

    [Fact]
    public async Task An_event_that_keeps_failing_is_given_up_after_the_retry_period()
    {
        _receiver.Always = HttpStatusCode.ServiceUnavailable;
        await RecordAsync(new AuditEntry(_h.Time.GetUtcNow(), "denied", "agent-1", "awx_cancel_job"));
        var dispatcher = NewDispatcher();
        for (var i = 0; i < 20 && (await _h.Store.CountUndeliveredAsync(CancellationToken.None)).Single().Waiting > 0; i++)
        {
            await dispatcher.DeliverDueAsync(CancellationToken.None);
            _h.Time.Advance(TimeSpan.FromSeconds(30));
        }

        var counts = Assert.Single(await _h.Store.CountUndeliveredAsync(CancellationToken.None));
        Assert.Equal(0, counts.Waiting);
        Assert.Equal(1, counts.GivenUp);
        // Back-off 1, 2, 4, 8, 16, 32 s: within the one-minute retry period it was tried a handful of times, not twenty.
        Assert.InRange(_receiver.Requests.Count, 3, 8);
        var health = Assert.Single(await new WebhookHealthReport(_h.Store, _settings, dispatcher).GetAsync(CancellationToken.None));
        Assert.Equal(1, health.GivenUp);
        Assert.Contains("503", health.LastError);
    }

    [Fact]
    public async Task Approval_events_carry_the_redacted_approval_and_never_the_secret()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();
        await _h.DecideAsync(id, Bob, approve: false, "not now");
        await call;
        await _h.Audit.FlushAsync(CancellationToken.None);
        // The harness's lifecycle writes through its own trail; replay its rows through the webhook-aware one.
        var rows = await _h.Store.ReadAuditAsync(id, 100, CancellationToken.None);
        await RecordAsync(rows.Reverse().ToArray());

        await NewDispatcher().DeliverDueAsync(CancellationToken.None);

        Assert.Equal(["approval.requested", "approval.decided"], _receiver.Requests.Select(r => r.Headers[WebhookSignature.EventHeader]));
        Assert.All(_receiver.Requests, r => Assert.DoesNotContain("sk-live-secret", r.Body, StringComparison.Ordinal));
        using var decided = JsonDocument.Parse(_receiver.Requests[1].Body);
        var root = decided.RootElement;
        Assert.Equal("denied_by_human", root.GetProperty("decision").GetString());
        Assert.Equal("slack:UBOB", root.GetProperty("actor").GetProperty("principal").GetString());
        var approval = root.GetProperty("approval");
        Assert.Equal(id.ToString(), approval.GetProperty("id").GetString());
        Assert.Equal("Denied", approval.GetProperty("status").GetString());
        Assert.Equal("T-100", approval.GetProperty("arguments").GetProperty("task_id").GetString());
        Assert.Equal("[redacted]", approval.GetProperty("arguments").GetProperty("api_key").GetString());
    }

    [Fact]
    public void Back_off_doubles_from_one_second_up_to_ten_minutes()
    {
        Assert.Equal(TimeSpan.FromSeconds(1), WebhookDispatcher.Backoff(1));
        Assert.Equal(TimeSpan.FromSeconds(2), WebhookDispatcher.Backoff(2));
        Assert.Equal(TimeSpan.FromSeconds(64), WebhookDispatcher.Backoff(7));
        Assert.Equal(TimeSpan.FromMinutes(10), WebhookDispatcher.Backoff(30));
    }

    [Theory]
    [InlineData("ftp://x/hook", "whsec-0123456789abcdef", "call.denied", "Url must be an absolute http(s) URL")]
    [InlineData("https://user:pw@x/hook", "whsec-0123456789abcdef", "call.denied", "Url must not carry a user name or password")]
    [InlineData("https://x/hook", null, "call.denied", "Secret is required")]
    [InlineData("https://x/hook", "short", "call.denied", "Secret must be at least 16 characters")]
    [InlineData("https://x/hook", "whsec-0123456789abcdef", "approval.requsted", "Events: unknown event 'approval.requsted'")]
    [InlineData("https://x/hook", "whsec-0123456789abcdef", "", "Events is empty")]
    public void Configuration_problems_name_the_key(string url, string? secret, string events, string problem)
    {
        var errors = new WebhookOptions { Url = url, Secret = secret, Events = [events] }.Validate("ApprovalBot:Webhooks:ops").ToList();
        var error = Assert.Single(errors);
        Assert.StartsWith("ApprovalBot:Webhooks:ops:", error);
        Assert.Contains(problem, error);
        Assert.DoesNotContain("0123456789abcdef", error);
    }

    public sealed record Received(string Body, Dictionary<string, string> Headers);

    /// <summary>Answers with the queued status codes, then with <see cref="Always"/>; records every request.</summary>
    private sealed class ScriptedReceiver : HttpMessageHandler
    {
        public ConcurrentQueue<HttpStatusCode> Answers { get; } = new();
        public HttpStatusCode Always { get; set; } = HttpStatusCode.OK;
        public List<Received> Requests { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            lock (Requests)
            {
                Requests.Add(new Received(body, request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value))));
            }

            return new HttpResponseMessage(Answers.TryDequeue(out var status) ? status : Always);
        }
    }

    private sealed class ReceiverClients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }
}
