using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol.Protocol;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// The audit as an operator reads it: the per-approval timeline (a Slack approval end to end), the
/// audit API's filters and cursor, and exports through the CLI (API and offline) without secrets.
/// </summary>
public sealed class AuditEndToEndTests
{
    private const string Tool = "agentwork_cancel_task";
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";

    private static async Task<JsonElement> TimelineAsync(HttpClient console, Guid id, Func<JsonElement, bool> until, string what) =>
        await Eventually.GetAsync(
            async () => await console.GetFromJsonAsync<JsonElement>($"/api/approvals/{id}/timeline"),
            t => t.ValueKind == JsonValueKind.Object && until(t),
            what: what);

    private static List<JsonElement> Events(JsonElement timeline) => timeline.GetProperty("events").EnumerateArray().ToList();

    [Fact]
    public async Task Timeline_of_an_approval_held_handed_back_approved_in_slack_and_redeemed()
    {
        await using var rig = await SlackRig.StartAsync(extraSettings: ["--ApprovalBot:Approvals:HoldFor=00:00:01"]);

        // Held for a second, then handed back as pending.
        var first = await rig.CallCancelTaskAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(first.IsError);
        Assert.Equal("pending", first.Meta?["approvalbot"]?["status"]?.GetValue<string>());
        var (id, card) = await rig.WaitForCardAsync();
        // The bot reports the posted card to the gateway over the bus.
        var withCard = await TimelineAsync(rig.Console, id, t => Events(t).Any(e => e.GetProperty("kind").GetString() == "card_posted"), "the card in the timeline");
        var posted = Events(withCard).Single(e => e.GetProperty("kind").GetString() == "card_posted");
        Assert.Equal("slack", posted.GetProperty("channel").GetString());
        Assert.Equal($"{Channel}|{rig.CardTs(card)}", posted.GetProperty("reference").GetString());

        // Approved with a signed click in Slack while no call waits.
        var click = await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, rig.CardTs(card)));
        Assert.Equal(HttpStatusCode.OK, click.StatusCode);
        await Eventually.GetAsync(
            async () => (await rig.Host.Get<GatewayStore>().GetApprovalAsync(id, CancellationToken.None))?.Status,
            s => s == ApprovalStatus.Approved,
            what: "the approval approved");

        // The agent's identical call redeems it and runs it.
        var second = await rig.CallCancelTaskAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(second.Content[0]).Text);

        var timeline = await TimelineAsync(rig.Console, id, t => Events(t).Any(e => e.GetProperty("kind").GetString() == "execution"), "the execution in the timeline");
        var approval = timeline.GetProperty("approval");
        Assert.Equal("Executed", approval.GetProperty("status").GetString());
        Assert.Equal("slack:U0APPROVER", approval.GetProperty("decidedBy").GetString());
        Assert.Equal("[redacted]", approval.GetProperty("arguments").GetProperty("api_key").GetString());
        var events = Events(timeline);
        var kinds = events.Select(e => e.GetProperty("kind").GetString()).ToList();
        // The card is posted while the call is held or after it was handed back (the bot is asynchronous), always before the click.
        Assert.Equal(["requested", "handed_back", "decision", "redeemed", "claimed", "execution"], kinds.Where(k => k != "card_posted"));
        Assert.Single(kinds, k => k == "card_posted");
        Assert.InRange(kinds.IndexOf("card_posted"), 1, kinds.IndexOf("decision") - 1);
        events = events.Where(e => e.GetProperty("kind").GetString() != "card_posted").ToList();
        var requested = events[0];
        Assert.Equal("test-agent", requested.GetProperty("agent").GetString());
        Assert.Equal("rules.agentwork_cancel_task", requested.GetProperty("rule").GetString());
        Assert.Equal(approval.GetProperty("digest").GetString(), requested.GetProperty("digest").GetString());
        var decision = events[2];
        Assert.Equal("approved", decision.GetProperty("decision").GetString());
        Assert.Equal("slack:U0APPROVER", decision.GetProperty("actor").GetString());
        Assert.Equal("slack", decision.GetProperty("channel").GetString());
        var execution = events[5];
        Assert.Equal("executed", execution.GetProperty("decision").GetString());
        Assert.True(execution.GetProperty("durationMs").GetDouble() >= 0);
        // Oldest first.
        var times = Events(timeline).Select(e => e.GetProperty("at").GetDateTimeOffset()).ToList();
        Assert.Equal(times.Order(), times);
        Assert.DoesNotContain(GatewayHost.SampleApiKey, timeline.GetRawText(), StringComparison.Ordinal);

        // The same story from the audit API's approval filter, newest first.
        var page = await rig.Console.GetFromJsonAsync<JsonElement>($"/api/audit?approval={id}");
        Assert.Equal(
            Events(timeline).Select(e => e.GetProperty("auditId").GetInt64()).Reverse(),
            page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
        Assert.Equal("executed", page.GetProperty("items")[0].GetProperty("decision").GetString());
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Audit_api_filters_pages_by_cursor_refuses_bad_parameters_and_needs_the_token()
    {
        await using var host = await GatewayHost.StartAsync(policy: WebhookEndToEndTests.Policy, withEverything: false);
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        for (var i = 0; i < 5; i++)
        {
            Assert.NotEqual(true, (await client.CallToolAsync("agentwork_list_tasks")).IsError);
        }

        Assert.True((await client.CallToolAsync("agentwork_ping")).IsError);
        Assert.True((await client.CallToolAsync("agentwork_ping")).IsError);

        using (var anonymous = new HttpClient { BaseAddress = host.BaseUrl })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/audit")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/approvals/{Guid.NewGuid()}/timeline")).StatusCode);
            anonymous.DefaultRequestHeaders.Authorization = new("Bearer", "not-the-admin-token");
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/audit/export?format=csv")).StatusCode);
        }

        var denials = await Eventually.GetAsync(
            async () => await console.GetFromJsonAsync<JsonElement>("/api/audit?decision=denied"),
            p => p.GetProperty("items").GetArrayLength() == 2,
            what: "two policy denials in the audit");
        Assert.All(denials.GetProperty("items").EnumerateArray(), r =>
        {
            Assert.Equal("agentwork_ping", r.GetProperty("tool").GetString());
            Assert.Equal("No pings during the freeze", r.GetProperty("reason").GetString());
            Assert.Equal("test-agent", r.GetProperty("agent").GetString());
        });

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Eventually.GetAsync(
                async () => await console.GetFromJsonAsync<JsonElement>($"/api/audit?agent=test-agent&tool=agentwork_list_tasks&limit=2{(cursor is null ? "" : "&cursor=" + cursor)}"),
                p => p.ValueKind == JsonValueKind.Object,
                what: "a page");
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("id").GetInt64()));
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextCursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(5, seen.Count);
        Assert.Equal(seen.OrderDescending(), seen);

        var bad = await console.GetAsync("/api/audit?decision=aproved");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("decision: unknown 'aproved'", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await console.GetAsync($"/api/approvals/{Guid.NewGuid()}/timeline")).StatusCode);

        // The console page has the History view over this API.
        var page_ = await console.GetStringAsync("/approvals");
        Assert.Contains("id=\"history-view\"", page_);
        Assert.Contains("/api/audit?", page_);
        Assert.Contains("/timeline", page_);
    }

    [Fact]
    public async Task Exports_through_the_api_and_offline_agree_in_both_formats_and_never_hold_the_secret()
    {
        await using var host = await GatewayHost.StartAsync(policy: WebhookEndToEndTests.Policy, withEverything: false);
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        var approved = client.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var approvedId = (await ConsoleApi.WaitForPendingAsync(console, Tool)).GetProperty("id").GetString()!;
        await ConsoleApi.DecideAsync(console, approvedId, approve: true);
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>((await approved.WaitAsync(TimeSpan.FromSeconds(30))).Content[0]).Text);
        var denied = client.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = "T-101", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var deniedId = (await ConsoleApi.WaitForPendingAsync(console, Tool)).GetProperty("id").GetString()!;
        await ConsoleApi.DecideAsync(console, deniedId, approve: false, "change freeze");
        await denied.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True((await client.CallToolAsync("agentwork_ping")).IsError);
        await host.Get<AuditTrail>().FlushAsync(CancellationToken.None);

        var (csvExit, apiCsv, _) = await CliAsync(host, "audit", "export", "--format", "csv", "--url", host.BaseUrl.ToString(), "--token", GatewayHost.AdminToken);
        var (jsonExit, apiJsonl, _) = await CliAsync(host, "audit", "export", "--format", "jsonl", "--url", host.BaseUrl.ToString(), "--token", GatewayHost.AdminToken);
        var database = Path.Combine(host.DataDirectory, "gateway.db");
        var (offlineCsvExit, offlineCsv, _) = await CliAsync(host, "audit", "export", "--format", "csv", "--database", database);
        var (offlineJsonExit, offlineJsonl, offlineErr) = await CliAsync(host, "audit", "export", "--format", "jsonl", "--offline", $"--ApprovalBot:DataDirectory={host.DataDirectory}");
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", GatewayHost.AdminToken);
        var served = await http.GetStringAsync("/api/audit/export?format=jsonl");

        Assert.Equal([0, 0, 0, 0], new[] { csvExit, jsonExit, offlineCsvExit, offlineJsonExit });
        Assert.Contains("exported", offlineErr);
        Assert.Equal(apiCsv, offlineCsv);
        Assert.Equal(apiJsonl, offlineJsonl);
        Assert.Equal(apiJsonl, served);
        var rows = apiJsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(rows.Count + 1, apiCsv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains(rows, r => r.GetProperty("decision").GetString() == "executed" && r.GetProperty("approvalId").GetString() == approvedId);
        Assert.Contains(rows, r => r.GetProperty("decision").GetString() == "denied_by_human" && r.GetProperty("reason").GetString() == "change freeze");
        Assert.Contains(rows, r => r.GetProperty("decision").GetString() == "denied" && r.GetProperty("tool").GetString() == "agentwork_ping");
        foreach (var export in new[] { apiCsv, apiJsonl, offlineCsv, offlineJsonl, served })
        {
            Assert.DoesNotContain(GatewayHost.SampleApiKey, export, StringComparison.Ordinal);
        }

        var (listExit, list, _) = await CliAsync(host, "audit", "list", "--decision", "denied_by_human", "--url", host.BaseUrl.ToString(), "--token", GatewayHost.AdminToken);
        Assert.Equal(0, listExit);
        Assert.Contains($"approval={deniedId}", list);
        Assert.Contains("1 row(s)", list);
        var (timelineExit, timeline, _) = await CliAsync(host, "audit", "timeline", approvedId, "--offline", $"--ApprovalBot:DataDirectory={host.DataDirectory}");
        Assert.Equal(0, timelineExit);
        Assert.Contains("Executed upstream", timeline);
        Assert.Contains("Approved by console:admin in console", timeline);
        var (badExit, _, bad) = await CliAsync(host, "audit", "export", "--format", "xml", "--offline");
        Assert.Equal(2, badExit);
        Assert.Contains("--format jsonl or --format csv", bad);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> CliAsync(GatewayHost host, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = host.DataDirectory };
        start.ArgumentList.Add(RepoPaths.ApprovalBotDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
