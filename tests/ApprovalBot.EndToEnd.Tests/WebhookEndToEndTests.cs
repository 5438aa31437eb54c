using System.Net;
using System.Text.Json.Nodes;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Bus;
using Microsoft.Extensions.Configuration;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using NJsonSchema;
using Webhook.Receiver;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Outbound webhooks from the real host to the sample receiver on a local port: signed events that
/// verify (and tampered or stale copies that do not), a receiver that fails and recovers, and a
/// gateway restart while events wait in the outbox.
/// </summary>
public sealed class WebhookEndToEndTests
{
    internal const string Policy = """
        {
          "version": "1",
          "default": "deny",
          "rules": {
            "agentwork_list_*": { "action": "allow" },
            "agentwork_ping": { "action": "deny", "reason": "No pings during the freeze" },
            "agentwork_cancel_task": {
              "action": "require_approval",
              "reason": "Cancels a running task; cannot be undone",
              "approvers": ["console:admin", "slack:U0APPROVER"],
              "timeout": "10m"
            }
          }
        }
        """;

    private const string Tool = "agentwork_cancel_task";

    private static Task<CallToolResult> CancelTaskAsync(McpClient client, string task = "T-100") =>
        client.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = task, ["api_key"] = GatewayHost.SampleApiKey }).AsTask();

    private static Task<List<ReceivedEvent>> WaitForEventsAsync(LocalWebhookReceiver receiver, params string[] types) =>
        Eventually.GetAsync(
            () => Task.FromResult<List<ReceivedEvent>?>(receiver.Events.ToList()),
            events => types.All(t => events!.Any(e => e.Type == t)),
            what: "webhook events " + string.Join(", ", types));

    [Fact]
    public async Task Signed_events_verify_at_the_sample_receiver_and_tampered_or_stale_copies_do_not()
    {
        await using var receiver = await LocalWebhookReceiver.StartAsync();
        await using var host = await GatewayHost.StartAsync(policy: Policy, withEverything: false, settings: receiver.Settings());
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();

        var call = CancelTaskAsync(client);
        var id = (await ConsoleApi.WaitForPendingAsync(console, Tool)).GetProperty("id").GetString()!;
        await ConsoleApi.DecideAsync(console, id, approve: true, "fine, the export is done");
        Assert.NotEqual(true, (await call.WaitAsync(TimeSpan.FromSeconds(30))).IsError);
        var denied = await client.CallToolAsync("agentwork_ping");
        Assert.True(denied.IsError);

        var events = await WaitForEventsAsync(receiver, "approval.requested", "approval.decided", "approval.executed", "call.denied");

        // Every request the gateway sent verifies, is valid against the published schema, and holds no secret.
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepoPaths.Root, "schemas", "webhook-event.schema.json"));
        var posts = receiver.Requests.Where(r => r.Path == "/hook").ToList();
        Assert.Equal(events.Count, posts.Count);
        foreach (var post in posts)
        {
            Assert.Equal(Verification.Valid, WebhookVerifier.Verify(LocalWebhookReceiver.Secret, post.Headers[WebhookVerifier.TimestampHeader], post.Headers[WebhookVerifier.SignatureHeader], post.Body, DateTimeOffset.UtcNow));
            Assert.Empty(schema.Validate(post.Text));
            Assert.DoesNotContain(GatewayHost.SampleApiKey, post.Text, StringComparison.Ordinal);
            Assert.StartsWith("application/json", post.Headers["Content-Type"]);
        }

        var requested = events.Single(e => e.Type == "approval.requested").Body;
        Assert.Equal(id, requested.GetProperty("approval").GetProperty("id").GetString());
        Assert.Equal("[redacted]", requested.GetProperty("approval").GetProperty("arguments").GetProperty("api_key").GetString());
        Assert.Equal("T-100", requested.GetProperty("approval").GetProperty("arguments").GetProperty("task_id").GetString());
        var decided = events.Single(e => e.Type == "approval.decided").Body;
        Assert.Equal("approved", decided.GetProperty("decision").GetString());
        Assert.Equal("console:admin", decided.GetProperty("actor").GetProperty("principal").GetString());
        Assert.Equal("fine, the export is done", decided.GetProperty("reason").GetString());
        var executed = events.Single(e => e.Type == "approval.executed").Body;
        Assert.True(executed.GetProperty("execution").GetProperty("succeeded").GetBoolean());
        var policyDenial = events.Single(e => e.Type == "call.denied").Body;
        Assert.Equal("agentwork_ping", policyDenial.GetProperty("tool").GetString());
        Assert.Equal("No pings during the freeze", policyDenial.GetProperty("reason").GetString());

        // Tampered: one byte of the body changed, the genuine headers kept.
        var genuine = posts.First(p => p.Headers[WebhookVerifier.EventHeader] == "approval.decided");
        var tampered = genuine.Text.Replace("console:admin", "console:admln", StringComparison.Ordinal);
        Assert.NotEqual(genuine.Text, tampered);
        var tamperedBytes = System.Text.Encoding.UTF8.GetBytes(tampered);
        Assert.Equal(Verification.BadSignature, WebhookVerifier.Verify(LocalWebhookReceiver.Secret, genuine.Headers[WebhookVerifier.TimestampHeader], genuine.Headers[WebhookVerifier.SignatureHeader], tamperedBytes, DateTimeOffset.UtcNow));
        var eventsBefore = receiver.Events.Count;
        Assert.Equal(HttpStatusCode.Unauthorized, (await receiver.ReplayAsync(genuine, "/hook", tamperedBytes)).StatusCode);
        // Wrong secret.
        Assert.Equal(Verification.BadSignature, WebhookVerifier.Verify("another-secret-0123456789", genuine.Headers[WebhookVerifier.TimestampHeader], genuine.Headers[WebhookVerifier.SignatureHeader], genuine.Body, DateTimeOffset.UtcNow));

        // Stale: the genuine request replayed after the five-minute tolerance.
        Assert.Equal(Verification.StaleTimestamp, WebhookVerifier.Verify(LocalWebhookReceiver.Secret, genuine.Headers[WebhookVerifier.TimestampHeader], genuine.Headers[WebhookVerifier.SignatureHeader], genuine.Body, DateTimeOffset.UtcNow.AddMinutes(6)));
        var stale = await receiver.ReplayAsync(genuine, "/later");
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Contains("StaleTimestamp", await stale.Content.ReadAsStringAsync());

        // Replayed within the tolerance: accepted as a duplicate, not handled twice.
        var replay = await receiver.ReplayAsync(genuine, "/hook");
        Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        Assert.Contains("duplicate", await replay.Content.ReadAsStringAsync());
        Assert.Equal(eventsBefore, receiver.Events.Count);
    }

    [Fact]
    public async Task A_failing_receiver_gets_every_event_once_it_recovers_even_across_a_gateway_restart()
    {
        await using var receiver = await LocalWebhookReceiver.StartAsync();
        receiver.Failing = true;
        var directory = RepoPaths.NewTempDirectory();
        string[] settings = [.. receiver.Settings(), "--ApprovalBot:Gateway:InstanceId=gw-webhook-restart", "--ApprovalBot:Approvals:HoldFor=00:00:00"];
        string approvalId;
        await using (var first = await GatewayHost.StartAsync(policy: Policy, withEverything: false, dataDirectory: directory, settings: settings))
        {
            await using var client = await first.ConnectAsync();
            Assert.True((await client.CallToolAsync("agentwork_ping")).IsError);
            var pending = await CancelTaskAsync(client); // held 0 s: handed back at once, the approval stays pending
            approvalId = pending.Meta!["approvalbot"]!["approvalId"]!.GetValue<string>();

            // Both events were tried and refused; the gateway says so, and calls are unaffected.
            await Eventually.GetAsync(
                () => Task.FromResult<int?>(receiver.Requests.Select(r => r.Headers[WebhookVerifier.EventHeader]).Distinct().Count()),
                n => n == 2,
                what: "both events attempted");
            using var http = new HttpClient { BaseAddress = first.BaseUrl };
            var ready = await Eventually.GetAsync(
                async () => JsonNode.Parse(await http.GetStringAsync("/readyz"))!,
                r => r?["webhooks"]?[0]?["state"]?.GetValue<string>() == "failing",
                what: "/readyz showing the failing webhook");
            var webhook = ready["webhooks"]![0]!;
            Assert.Equal("e2e", webhook["name"]!.GetValue<string>());
            Assert.Equal(2, webhook["waiting"]!.GetValue<int>());
            Assert.Contains("500", webhook["lastError"]!.GetValue<string>());
            Assert.Equal("ready", ready["status"]!.GetValue<string>()); // a receiver being down does not take the gateway out
            var beat = await first.Get<GatewayHeartbeatPublisher>().BuildAsync(CancellationToken.None);
            var health = Assert.Single(beat.Webhooks!);
            Assert.True(health.Failing);
            Assert.Equal(2, health.Waiting);
            Assert.NotEqual(true, (await client.CallToolAsync("agentwork_list_tasks")).IsError);
            Assert.Empty(receiver.Events);
        }

        // The gateway is down; the receiver recovers; the gateway comes back on the same data directory.
        receiver.Failing = false;
        await using var second = await GatewayHost.StartAsync(policy: Policy, withEverything: false, dataDirectory: directory, settings: settings);
        var events = await WaitForEventsAsync(receiver, "call.denied", "approval.requested");

        Assert.Equal(2, events.Count);
        Assert.Equal(2, events.Select(e => e.Id).Distinct().Count());
        Assert.Equal(approvalId, events.Single(e => e.Type == "approval.requested").Body.GetProperty("approval").GetProperty("id").GetString());
        // Each event was sent more than once (refused, then taken), always as the same event with the same body.
        foreach (var e in events)
        {
            var attempts = receiver.Requests.Where(r => r.Headers[WebhookVerifier.DeliveryHeader] == e.Id).ToList();
            Assert.True(attempts.Count >= 2, $"{e.Type} was sent {attempts.Count} time(s)");
            Assert.Single(attempts.Select(a => a.Text).Distinct());
        }

        using var readyHttp = new HttpClient { BaseAddress = second.BaseUrl };
        var after = await Eventually.GetAsync(
            async () => JsonNode.Parse(await readyHttp.GetStringAsync("/readyz"))!,
            r => r?["webhooks"]?[0]?["state"]?.GetValue<string>() == "ok",
            what: "/readyz showing the webhook recovered");
        Assert.Equal(0, after["webhooks"]![0]!["waiting"]!.GetValue<int>());
        Assert.NotNull(after["webhooks"]![0]!["lastDeliveredAt"]);
    }

    [Fact]
    public async Task Invalid_webhook_configuration_refuses_to_start_with_one_line_per_problem_naming_the_key()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var directory = RepoPaths.NewTempDirectory();
        var exit = await Cli.CommandLine.RunAsync(
        [
            "--urls=http://127.0.0.1:0",
            $"--ApprovalBot:DataDirectory={directory}",
            "--ApprovalBot:Webhooks:pager:Url=not a url",
            "--ApprovalBot:Webhooks:pager:Secret=whsec-0123456789abcdef-secret",
            "--ApprovalBot:Webhooks:pager:Events:0=approval.requested",
            "--ApprovalBot:Webhooks:siem:Url=https://siem.example.com/ingest",
            "--ApprovalBot:Webhooks:siem:Events:0=approval.decided,call.denyed",
            "--ApprovalBot:Audit:RetentionDays=-1",
        ], stdout, stderr);

        Assert.Equal(2, exit);
        var lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("- ApprovalBot:Webhooks:pager:Url must be an absolute http(s) URL", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- ApprovalBot:Webhooks:siem:Secret is required", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- ApprovalBot:Webhooks:siem:Events: unknown event 'call.denyed'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- ApprovalBot:Audit:RetentionDays must be 0", StringComparison.Ordinal));
        Assert.DoesNotContain("whsec-0123456789abcdef-secret", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory, "gateway.db")));
    }

    [Fact]
    public void Events_as_one_comma_separated_value_or_as_an_array()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ApprovalBot:PolicyPath"] = Path.Combine(RepoPaths.Root, "examples", "policy.json"),
            ["ApprovalBot:Gateway:Upstreams:agentwork:Command"] = "dotnet",
            ["ApprovalBot:Webhooks:pager:Url"] = "https://events.example.com/approvalbot",
            ["ApprovalBot:Webhooks:pager:Secret"] = "whsec-0123456789abcdef",
            ["ApprovalBot:Webhooks:pager:Events"] = "approval.requested, approval.expired",
            ["ApprovalBot:Webhooks:siem:Url"] = "https://siem.example.com/ingest",
            ["ApprovalBot:Webhooks:siem:Secret"] = "whsec-0123456789abcdef",
            ["ApprovalBot:Webhooks:siem:Events:0"] = "*",
        }).Build();

        var (result, errors) = Configuration.ConfigurationValidator.Validate(configuration, RepoPaths.NewTempDirectory());

        Assert.Empty(errors);
        Assert.Equal(["approval.requested", "approval.expired"], result!.Options.Webhooks["pager"].EventNames);
        Assert.True(result.Options.Webhooks["siem"].Subscribes("call.denied"));
        Assert.False(result.Options.Webhooks["pager"].Subscribes("call.denied"));
    }
}
