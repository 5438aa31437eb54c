using System.Net;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Configuration;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Slack approvals end to end: the real host (role all, in-memory bus) with the Slack channel
/// pointed at <see cref="FakeSlackApi"/>, a real MCP client blocked on <c>agentwork_cancel_task</c>,
/// and requests to <c>/slack/*</c> signed exactly as Slack signs them (HMAC-SHA256 over the raw body,
/// wall-clock timestamp — the host uses TimeProvider.System). Every test ends by checking that the
/// sample's real api_key never reached the fake Slack in any call.
/// </summary>
public sealed class SlackEndToEndTests
{
    internal const string BotToken = "xoxb-e2e-1111111111-2222222222-e2eBotToken";
    internal const string SigningSecret = "8f14e45fceea167a5a36dedd4bea2543";
    internal const string Channel = "C0APPROVALS";

    /// <summary>In the test policy's approvers of agentwork_cancel_task (slack:U0APPROVER).</summary>
    internal const string Approver = "U0APPROVER";
    internal const string ApproverName = "ada.approver";

    /// <summary>Not in any approvers list.</summary>
    internal const string Intruder = "U0INTRUDER";

    private const string Tool = "agentwork_cancel_task";
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";

    [Fact]
    public async Task Card_is_posted_with_the_facts_redacted_arguments_and_buttons_and_no_secret_reaches_slack()
    {
        await using var rig = await SlackRig.StartAsync();
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);
        var pending = await ConsoleApi.WaitForPendingAsync(rig.Console, Tool);
        var id = Guid.Parse(pending.GetProperty("id").GetString()!);

        var card = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.ApprovalId == id);

        Assert.True(card.Succeeded);
        Assert.Equal("Bearer " + BotToken, card.Authorization);
        Assert.StartsWith("application/json", card.ContentType);
        Assert.Equal(Channel, card.Get("channel"));
        Assert.Null(card.Json?["thread_ts"]);
        Assert.Contains("Approval needed", card.Get("text"));
        Assert.Contains(Tool, card.Get("text"));

        var blocks = card.Blocks;
        var header = Assert.Single(blocks, b => Type(b) == "header");
        Assert.Equal($"Approval needed: {Tool}", header["text"]?["text"]?.GetValue<string>());
        var facts = string.Join("\n", blocks.Where(b => b["fields"] is JsonArray).SelectMany(b => b["fields"]!.AsArray()).Select(f => f?["text"]?.GetValue<string>()));
        Assert.Contains($"*Tool*\n`{Tool}`", facts);
        Assert.Contains("*Upstream*\nagentwork", facts);
        Assert.Contains("*Agent*\ntest-agent", facts);
        Assert.Contains("*Expires*", facts);

        var sections = blocks.Where(b => Type(b) == "section" && b["text"] is not null).Select(b => b["text"]!["text"]!.GetValue<string>()).ToList();
        Assert.Contains(sections, s => s.Contains("Why it needs approval", StringComparison.Ordinal) && s.Contains("Cancels a running task; cannot be undone", StringComparison.Ordinal));
        var arguments = Assert.Single(sections, s => s.StartsWith("*Arguments*", StringComparison.Ordinal));
        Assert.Contains("\"task_id\": \"T-100\"", arguments);
        Assert.Contains("\"api_key\": \"[redacted]\"", arguments);
        var approvers = Assert.Single(sections, s => s.StartsWith("*Who may approve*", StringComparison.Ordinal));
        Assert.Contains("<@U0APPROVER>", approvers);
        Assert.Contains("console:admin", approvers);
        var context = Assert.Single(blocks, b => Type(b) == "context");
        Assert.Contains(id.ToString(), context.ToJsonString());

        var actions = Assert.Single(blocks, b => Type(b) == "actions");
        Assert.Equal(SlackActionIds.ActionsBlock, actions["block_id"]?.GetValue<string>());
        var buttons = actions["elements"]!.AsArray().Select(e => e!).ToList();
        // The rule does not say "editable": false, so the card also offers Edit & approve.
        Assert.Equal(new[] { SlackActionIds.Approve, SlackActionIds.EditApprove, SlackActionIds.Deny, SlackActionIds.DenyWithReason, SlackActionIds.Withdraw }, buttons.Select(b => b["action_id"]!.GetValue<string>()));
        Assert.All(buttons, b => Assert.Equal("button", Type(b)));
        Assert.All(buttons, b => Assert.Equal(id.ToString(), b["value"]!.GetValue<string>()));
        var approve = buttons[0];
        Assert.Equal("primary", approve["style"]?.GetValue<string>());
        var confirm = Assert.IsType<JsonObject>(approve["confirm"]);
        Assert.Equal("plain_text", confirm["title"]?["type"]?.GetValue<string>());
        Assert.Contains(Tool, confirm["text"]?["text"]?.GetValue<string>());
        Assert.Equal("Approve", confirm["confirm"]?["text"]?.GetValue<string>());
        Assert.Equal("Cancel", confirm["deny"]?["text"]?.GetValue<string>());
        Assert.Equal("danger", buttons[2]["style"]?.GetValue<string>());
        Assert.Null(buttons[2]["confirm"]);

        Assert.Single(rig.Slack.CallsTo("chat.postMessage"));
        Assert.False(call.IsCompleted);

        // Withdrawn from the console: the waiting call hears it, the card ends without buttons.
        await ConsoleApi.CancelAsync(rig.Console, id.ToString(), "asked by mistake");
        Assert.StartsWith("Withdrawn", Assert.IsType<TextContentBlock>((await call.WaitAsync(TimeSpan.FromSeconds(30))).Content[0]).Text);
        await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id && !c.HasActionsBlock);

        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Approve_click_from_an_approver_releases_the_call_with_the_real_result_and_finalizes_the_card()
    {
        await using var rig = await SlackRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);

        var response = await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, ts));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(result.Content[0]).Text);

        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id);
        Assert.True(update.Succeeded);
        Assert.Equal(Channel, update.Get("channel"));
        Assert.Equal(ts, update.Get("ts"));
        Assert.False(update.HasActionsBlock);
        Assert.Equal($"Approved: {Tool}", HeaderText(update));
        Assert.Contains("*Approved* by <@U0APPROVER>", OutcomeText(update));

        var reply = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.Get("thread_ts") == ts);
        Assert.Equal(Channel, reply.Get("channel"));
        Assert.Equal("Executed: succeeded", reply.Get("text"));

        var told = await rig.Slack.WaitForCallAsync("chat.postEphemeral", c => c.Get("user") == Approver);
        Assert.Equal(Channel, told.Get("channel"));
        Assert.Contains("Approved", told.Get("text"));

        // Every card update of this approval is final (no buttons come back).
        Assert.All(rig.Slack.CallsTo("chat.update"), c => Assert.False(c.HasActionsBlock));
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Quorum_of_two_shows_progress_on_the_card_and_releases_on_the_second_approver()
    {
        const string policy = """
            { "version": "1", "default": "deny", "rules": { "agentwork_cancel_task": {
                "action": "require_approval", "reason": "Two people must agree",
                "approvers": ["slack:U0APPROVER", "slack:U0SECOND"], "approvals_required": 2 } } }
            """;
        await using var rig = await SlackRig.StartAsync(policy: policy);
        var call = rig.CallCancelTaskAsync();
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);

        await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, ts));
        var progress = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id);
        Assert.True(progress.HasActionsBlock);
        Assert.Contains("Approval recorded from", progress.Body);
        Assert.False(call.IsCompleted);

        await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, "U0SECOND", "second", Channel, ts));
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var final = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id && !c.HasActionsBlock);
        Assert.Equal($"Approved: {Tool}", HeaderText(final));
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Upstream_error_after_approval_follows_as_a_thread_reply()
    {
        await using var rig = await SlackRig.StartAsync();
        var call = rig.CallCancelTaskAsync(task: "T-999");
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);

        await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, ts));

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        var reply = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.Get("thread_ts") == ts);
        Assert.StartsWith("Execution failed:", reply.Get("text"));
        Assert.Contains("no task T-999", reply.Get("text"));
        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id);
        Assert.False(update.HasActionsBlock);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Deny_with_reason_opens_the_dialog_and_its_submission_reaches_the_agent_with_the_reason()
    {
        await using var rig = await SlackRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);
        var triggerId = "13345224609.738474920." + Guid.NewGuid().ToString("N")[..16];

        var click = await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.DenyWithReason, id, Approver, ApproverName, Channel, ts, triggerId: triggerId));
        Assert.Equal(HttpStatusCode.OK, click.StatusCode);

        var open = await rig.Slack.WaitForCallAsync("views.open");
        Assert.True(open.Succeeded);
        Assert.Equal(triggerId, open.Get("trigger_id"));
        var view = Assert.IsType<JsonObject>(open.Json?["view"]);
        Assert.Equal("modal", view["type"]?.GetValue<string>());
        Assert.Equal(SlackActionIds.DenyReasonModal, view["callback_id"]?.GetValue<string>());
        Assert.Contains(view["blocks"]!.AsArray(), b => Type(b!) == "input" && b!["block_id"]?.GetValue<string>() == SlackActionIds.ReasonBlock);
        var metadata = view["private_metadata"]!.GetValue<string>();
        Assert.Contains(id.ToString(), metadata);
        Assert.False(call.IsCompleted);

        const string reason = "the nightly export must finish first";
        var submit = await rig.PostInteractionAsync(SlackTestRequests.DenyReasonSubmission(metadata, reason, Approver, ApproverName, view["id"]?.GetValue<string>() ?? "V0000001"));
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        var answer = await submit.Content.ReadAsStringAsync();
        Assert.DoesNotContain("errors", answer); // empty or {}: the dialog closes

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        var text = Assert.IsType<TextContentBlock>(result.Content[0]).Text;
        Assert.Contains("Denied", text);
        Assert.Contains(reason, text);
        Assert.Equal("denied", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());

        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id);
        Assert.Equal(ts, update.Get("ts"));
        Assert.False(update.HasActionsBlock);
        Assert.Equal($"Denied: {Tool}", HeaderText(update));
        Assert.Contains("*Denied* by <@U0APPROVER>", OutcomeText(update));
        Assert.Contains(reason, OutcomeText(update));

        // The task was not cancelled.
        await using var client = await rig.Host.ConnectAsync();
        var tasks = await client.CallToolAsync("agentwork_list_tasks");
        Assert.Contains("\"Id\":\"T-100\",\"Title\":\"Nightly data export\",\"Status\":\"running\"", Assert.IsType<TextContentBlock>(tasks.Content[0]).Text);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Click_from_someone_who_is_not_an_approver_is_told_so_and_changes_nothing()
    {
        await using var rig = await SlackRig.StartAsync();
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);

        var response = await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Intruder, "mallory", Channel, ts));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var ephemeral = await rig.Slack.WaitForCallAsync("chat.postEphemeral", c => c.Get("user") == Intruder);
        Assert.Equal(Channel, ephemeral.Get("channel"));
        Assert.Contains("not an approver", ephemeral.Get("text"));
        Assert.Contains(Tool, ephemeral.Get("text"));
        await rig.WhenSlackWorkDoneAsync();

        Assert.False(call.IsCompleted);
        Assert.Equal(ApprovalStatus.Pending, (await rig.Host.Get<GatewayStore>().GetApprovalAsync(id, CancellationToken.None))!.Status);
        var still = await ConsoleApi.ListAsync(rig.Console, "pending");
        Assert.Contains(still, a => a.GetProperty("id").GetString() == id.ToString() && a.GetProperty("status").GetString() == "Pending");
        Assert.Empty(rig.Slack.CallsTo("chat.update"));
        var audit = await rig.AuditAsync(id);
        Assert.DoesNotContain(audit, r => r.Actor == "slack:" + Intruder);
        Assert.DoesNotContain(audit, r => r.Decision is "approved" or "denied");

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Slack_retry_of_the_same_click_decides_once()
    {
        await using var rig = await SlackRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);
        var payload = SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, ts, actionTs: "1700000123.456789");

        var first = await rig.PostInteractionAsync(payload);
        var retry = await rig.PostInteractionAsync(payload, retryNum: 1);
        var secondRetry = await rig.PostInteractionAsync(payload, retryNum: 2);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondRetry.StatusCode);

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.Get("thread_ts") == ts);
        await rig.WhenSlackWorkDoneAsync();

        // One decision reached the gateway: one answer to the clicker, one approval, one execution.
        Assert.Single(rig.Slack.CallsTo("chat.postEphemeral"), c => c.Get("user") == Approver);
        var audit = await Eventually.GetAsync(async () => await rig.AuditAsync(id), rows => rows?.Any(r => r.Decision == "executed") == true, what: "the execution in the audit");
        Assert.Single(audit, r => r.Decision == "approved");
        Assert.Single(audit, r => r.Decision == "executed");
        Assert.DoesNotContain(audit, r => r.Decision == "decision_refused");
        Assert.Single(rig.Slack.CallsTo("chat.postMessage"), c => c.Get("thread_ts") == ts);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Unanswered_approval_expires_and_the_card_says_so_without_buttons()
    {
        await using var rig = await SlackRig.StartAsync();
        // agentwork_cancel_job has a 3 s timeout in the test policy (and no approvers list).
        var call = rig.Client.CallToolAsync("agentwork_cancel_job", new Dictionary<string, object?> { ["id"] = 7 }).AsTask();
        var card = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.ApprovalId is not null);
        Assert.True(card.HasActionsBlock);
        Assert.Contains("Any member", card.Json!.ToJsonString());
        var id = card.ApprovalId!.Value;

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        Assert.Equal("expired", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());

        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id, TimeSpan.FromSeconds(20));
        Assert.False(update.HasActionsBlock);
        Assert.Equal("Expired: agentwork_cancel_job", HeaderText(update));
        Assert.Contains("*Expired*", OutcomeText(update));
        Assert.DoesNotContain(rig.Slack.CallsTo("chat.postMessage"), c => c.Get("thread_ts") is not null); // nothing ran
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Decision_in_the_console_updates_the_slack_card_too()
    {
        await using var rig = await SlackRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);

        var (response, body) = await ConsoleApi.DecideAsync(rig.Console, id.ToString(), approve: false, "decided in the console");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Denied", body.GetProperty("status").GetString());

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id);
        Assert.Equal(Channel, update.Get("channel"));
        Assert.Equal(ts, update.Get("ts"));
        Assert.False(update.HasActionsBlock);
        Assert.Equal($"Denied: {Tool}", HeaderText(update));
        Assert.Contains("*Denied* by console admin (console)", OutcomeText(update));
        Assert.Contains("decided in the console", OutcomeText(update));
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Rate_limited_card_post_is_retried_after_retry_after_and_posted_once()
    {
        await using var rig = await SlackRig.StartAsync(beforeStart: slack => slack.RateLimitNext("chat.postMessage", retryAfterSeconds: 1));
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);

        var posted = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId is not null, TimeSpan.FromSeconds(20));
        var posts = rig.Slack.CallsTo("chat.postMessage");
        Assert.Equal(2, posts.Count);
        var limited = posts[0];
        Assert.Equal(429, limited.StatusCode);
        Assert.Equal(posted.Sequence, posts[1].Sequence);
        Assert.Equal(limited.Body, posted.Body); // the same card, sent again
        // Retry-After: 1 was honoured (a lower bound only: it proves the wait, not how fast anything is).
        Assert.True(posted.ReceivedAt - limited.ReceivedAt >= TimeSpan.FromMilliseconds(900), $"retried after {(posted.ReceivedAt - limited.ReceivedAt).TotalMilliseconds} ms");

        // The posted card is the one that gets updated.
        var id = posted.ApprovalId!.Value;
        var ts = rig.CardTs(posted);
        await ConsoleApi.DecideAsync(rig.Console, id.ToString(), approve: true);
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>((await call.WaitAsync(TimeSpan.FromSeconds(30))).Content[0]).Text);
        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id);
        Assert.Equal(ts, update.Get("ts"));
        Assert.False(update.HasActionsBlock);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Policy_status_names_the_gateway_and_the_pending_tool()
    {
        await using var rig = await SlackRig.StartAsync(extraSettings: ["--ApprovalBot:Gateway:HeartbeatInterval=00:00:01"]);
        var instance = rig.Host.Get<IConfiguration>()["ApprovalBot:Gateway:InstanceId"];
        Assert.False(string.IsNullOrEmpty(instance));
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);
        var (id, _) = await rig.WaitForCardAsync();

        // The heartbeat sent at start-up may predate the upstream's connection; the next one (1 s here) reports it connected.
        var reply = await Eventually.GetAsync(
            async () => await rig.SlashCommandAsync("status", Intruder),
            r => r?.ToJsonString() is { } json
                 && json.Contains(instance!, StringComparison.Ordinal)
                 && json.Contains("agentwork :white_check_mark:", StringComparison.Ordinal)
                 && json.Contains(id.ToString(), StringComparison.Ordinal),
            what: "/policy status naming the gateway, its connected upstream and the pending approval");

        Assert.Equal("ephemeral", reply["response_type"]?.GetValue<string>());
        var sections = reply["blocks"]!.AsArray().Select(b => b!["text"]?["text"]?.GetValue<string>() ?? "").ToList();
        var gateways = Assert.Single(sections, s => s.StartsWith("*Gateways*", StringComparison.Ordinal));
        Assert.Contains("1 online of 1", gateways);
        Assert.Contains(instance, gateways);
        Assert.Contains("agentwork :white_check_mark:", gateways);
        Assert.Contains("policy: default `deny`, 10 rules", gateways, StringComparison.OrdinalIgnoreCase); // the test policy's default and rule count
        var pending = Assert.Single(sections, s => s.StartsWith("*Pending approvals*", StringComparison.Ordinal));
        Assert.Contains("*Pending approvals* — 1", pending);
        Assert.Contains($"`{Tool}` by test-agent on agentwork", pending);
        Assert.Contains(id.ToString(), pending);
        Assert.Contains(sections, s => s.StartsWith("*Today* (UTC)", StringComparison.Ordinal));

        var help = await rig.SlashCommandAsync("bogus", Intruder);
        Assert.Contains("Unknown sub-command", help["text"]?.GetValue<string>());
        Assert.Contains("/policy status", help["text"]?.GetValue<string>());

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Unsigned_or_wrongly_signed_click_is_refused_and_changes_nothing()
    {
        await using var rig = await SlackRig.StartAsync();
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);
        var (id, card) = await rig.WaitForCardAsync();
        var body = SlackTestRequests.InteractionBody(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, rig.CardTs(card)));

        using (var wrong = SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", "not-the-signing-secret", DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await rig.Http.SendAsync(wrong)).StatusCode);
        }

        using (var stale = SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", SigningSecret, DateTimeOffset.UtcNow.AddMinutes(-10)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await rig.Http.SendAsync(stale)).StatusCode);
        }

        using (var unsigned = SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", null, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await rig.Http.SendAsync(unsigned)).StatusCode);
        }

        await rig.WhenSlackWorkDoneAsync();
        Assert.False(call.IsCompleted);
        Assert.Empty(rig.Slack.CallsTo("chat.postEphemeral"));
        Assert.Empty(rig.Slack.CallsTo("chat.update"));
        Assert.Contains(await ConsoleApi.ListAsync(rig.Console, "pending"), a => a.GetProperty("id").GetString() == id.ToString());

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        rig.AssertNoSecretReachedSlack();
    }

    internal static string? Type(JsonNode block) => block["type"]?.GetValue<string>();

    internal static string? HeaderText(SlackApiCall call) =>
        call.Blocks.FirstOrDefault(b => Type(b) == "header")?["text"]?["text"]?.GetValue<string>();

    internal static string OutcomeText(SlackApiCall call) =>
        call.Blocks.FirstOrDefault(b => b["block_id"]?.GetValue<string>() == "approvalbot_outcome")?["text"]?["text"]?.GetValue<string>() ?? "";

    internal static IEnumerable<string> Settings(FakeSlackApi slack) =>
    [
        "--ApprovalBot:Slack:Enabled=true",
        $"--ApprovalBot:Slack:BotToken={BotToken}",
        $"--ApprovalBot:Slack:SigningSecret={SigningSecret}",
        $"--ApprovalBot:Slack:Channel={Channel}",
        $"--ApprovalBot:Slack:ApiBaseUrl={slack.ApiBaseUrl}",
    ];

    /// <summary>Everything the sample's real api_key could have travelled in: bodies and headers of every call Slack got.</summary>
    internal static void AssertNoSecretIn(FakeSlackApi slack)
    {
        var calls = slack.Calls;
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Authorization ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Json?.ToJsonString() ?? "", StringComparison.Ordinal);
        }
    }

    /// <summary>The fake Slack, the real host pointed at it, an MCP client, and HTTP clients for /slack/* and the console API.</summary>
    internal sealed class SlackRig : ChannelRig
    {
        private SlackRig(Started started, FakeSlackApi slack)
            : base(started)
        {
            Slack = slack;
        }

        public FakeSlackApi Slack { get; }

        public static async Task<SlackRig> StartAsync(Action<FakeSlackApi>? beforeStart = null, IEnumerable<string>? extraSettings = null, string? policy = null)
        {
            FakeSlackApi? slack = null;
            var started = await StartAsync(async fakes =>
            {
                slack = await FakeSlackApi.StartAsync();
                fakes.Add(slack);
                slack.BotToken = BotToken;
                beforeStart?.Invoke(slack);
                return [.. Settings(slack), .. extraSettings ?? []];
            }, policy);
            return new SlackRig(started, slack!);
        }

        /// <summary>The pending approval of agentwork_cancel_task (from the console API) and its card in Slack.</summary>
        public async Task<(Guid Id, SlackApiCall Card)> WaitForCardAsync()
        {
            var id = await WaitForPendingIdAsync();
            var card = await Slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId == id);
            return (id, card);
        }

        /// <summary>The ts Slack gave the card.</summary>
        public string CardTs(SlackApiCall card) => Slack.TsOf(card);

        public async Task<HttpResponseMessage> PostInteractionAsync(JsonNode payload, int? retryNum = null)
        {
            using var request = SlackTestRequests.Signed(
                "/slack/interactions", SlackTestRequests.InteractionBody(payload), "application/x-www-form-urlencoded", SigningSecret, DateTimeOffset.UtcNow, retryNum);
            var response = await Http.SendAsync(request);
            await response.Content.LoadIntoBufferAsync();
            return response;
        }

        public async Task<JsonObject> SlashCommandAsync(string text, string userId)
        {
            using var request = SlackTestRequests.Signed(
                "/slack/commands", SlackTestRequests.SlashCommandBody(text, userId, Channel), "application/x-www-form-urlencoded", SigningSecret, DateTimeOffset.UtcNow);
            using var response = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Assert.IsType<JsonObject>(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        }

        /// <summary>Waits (bounded) until the bot's Slack work queue has nothing queued or running.</summary>
        public Task WhenSlackWorkDoneAsync() =>
            Eventually.GetAsync(() => Task.FromResult<int?>(Host.Get<SlackWorkQueue>().Pending), p => p == 0, what: "the Slack work queue to drain");

        public void AssertNoSecretReachedSlack() => AssertNoSecretIn(Slack);
    }
}
