using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Policies;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Time-boxed grants ("approve for 1h") through the console API, end to end: the real host (role
/// all, in-memory bus, the sample upstream) and real MCP clients of two agents.
/// </summary>
public sealed class GrantTests
{
    internal const string Tool = ChannelRig.Tool;

    /// <summary>agentwork_cancel_task offers 15m and 1h; a glob rule still guards it when the exact rule is dropped.</summary>
    internal const string Policy = """
        {
          "version": "1",
          "default": "deny",
          "rules": {
            "agentwork_list_*": { "action": "allow" },
            "agentwork_cancel_task": {
              "action": "require_approval",
              "reason": "Cancels a running task; cannot be undone",
              "approvers": ["console:admin", "slack:U0APPROVER", "teams:11111111-2222-3333-4444-555555555555"],
              "timeout": "10m",
              "grants": ["15m", "1h"]
            },
            "agentwork_cancel_*": { "action": "require_approval", "reason": "Any other cancel", "timeout": "10m" }
          }
        }
        """;

    [Fact]
    public async Task Approve_for_an_hour_releases_the_call_and_lets_the_same_agents_next_call_through_without_a_card_until_revoked()
    {
        await using var rig = await ConsoleRig.StartAsync(Policy);
        var first = rig.CallCancelTaskAsync(task: "T-100");
        var id = await rig.WaitForPendingIdAsync();
        var pending = (await ConsoleApi.ListAsync(rig.Console)).Single();
        Assert.Equal(["15m", "1h"], pending.GetProperty("grants").EnumerateArray().Select(g => g.GetString()));

        var (response, body) = await ApproveAsync(rig.Console, id, "1h");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("for 1h", body.GetProperty("message").GetString());
        var grantId = body.GetProperty("grantId").GetString()!;

        // The call the card was for runs, and says a grant came with it.
        var released = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Text(released));
        Assert.Equal("approved", released.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        Assert.Equal(grantId, released.Meta?["approvalbot"]?["grantId"]?.GetValue<string>());

        // The same agent's next call (other arguments: the scope is the tool) runs at once, without a card.
        var second = await rig.CallCancelTaskAsync(task: "T-101").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-101 (Rebuild search index) cancelled.", Text(second));
        var meta = second.Meta?["approvalbot"];
        Assert.Equal("allowed_by_grant", meta?["decision"]?.GetValue<string>());
        Assert.Equal(grantId, meta?["grantId"]?.GetValue<string>());
        Assert.Equal("console:admin", meta?["grantedBy"]?.GetValue<string>());
        Assert.Equal(body.GetProperty("grantUntil").GetDateTimeOffset(), DateTimeOffset.Parse(meta!["until"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Single(await ConsoleApi.ListAsync(rig.Console, "all")); // no second approval was asked for

        var audit = await rig.AuditAsync(id);
        var used = Assert.Single(audit, a => a.Decision == "allowed_by_grant");
        Assert.Equal(Guid.Parse(grantId), used.GrantId);
        Assert.Equal("console:admin", used.Actor);
        Assert.Single(audit, a => a.Decision == "grant_created" && a.GrantId == Guid.Parse(grantId));

        // Another agent's call still asks.
        await using (var other = await rig.Host.ConnectAsync(GatewayHost.AgentKey + "-other"))
        {
            using var cts = new CancellationTokenSource();
            var otherCall = other.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = "T-102", ["api_key"] = GatewayHost.SampleApiKey }, cancellationToken: cts.Token).AsTask();
            var otherPending = await ConsoleApi.WaitForPendingAsync(rig.Console, Tool, a => a.GetProperty("agent").GetString() == "other-agent");
            Assert.False(otherCall.IsCompleted);
            await ConsoleApi.CancelAsync(rig.Console, otherPending.GetProperty("id").GetString()!);
            Assert.True((await otherCall.WaitAsync(TimeSpan.FromSeconds(30))).IsError);
        }

        // The grant is listed, then revoked: the next call parks again.
        var grants = await GrantsAsync(rig.Console);
        var listed = Assert.Single(grants);
        Assert.Equal(grantId, listed.GetProperty("id").GetString());
        Assert.Equal("test-agent", listed.GetProperty("agent").GetString());
        Assert.Equal("tool", listed.GetProperty("scope").GetString());
        Assert.True(listed.GetProperty("active").GetBoolean());

        var revoke = await rig.Console.PostAsJsonAsync($"/api/grants/{grantId}/revoke", new { comment = "done for today" });
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var again = await rig.Console.PostAsJsonAsync($"/api/grants/{grantId}/revoke", new { });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        using (var cts = new CancellationTokenSource())
        {
            var parked = rig.CallCancelTaskAsync(cts.Token, task: "T-102");
            await ConsoleApi.WaitForPendingAsync(rig.Console, Tool, a => a.GetProperty("agent").GetString() == "test-agent");
            Assert.False(parked.IsCompleted);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => parked);
        }

        await Eventually.GetAsync<JsonElement[]>(async () => await GrantsAsync(rig.Console), g => g?.Length == 0, what: "the revoked grant to leave the active list");
        var ended = Assert.Single(await GrantsAsync(rig.Console, "all"));
        Assert.Equal("revoked by console admin", ended.GetProperty("state").GetString());
        Assert.Contains(await rig.AuditAsync(id), a => a.Decision == "grant_revoked" && a.Actor == "console:admin" && a.Reason == "done for today");
    }

    [Fact]
    public async Task Grant_scoped_to_arguments_lets_only_the_same_arguments_through()
    {
        await using var rig = await ConsoleRig.StartAsync(Policy.Replace("\"grants\": [\"15m\", \"1h\"]", "\"grants\": [\"15m\", \"1h\"], \"grant_scope\": \"arguments\"", StringComparison.Ordinal));
        var first = rig.CallCancelTaskAsync(task: "T-100");
        var id = await rig.WaitForPendingIdAsync();
        var (response, _) = await ApproveAsync(rig.Console, id, "15m");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(true, (await first.WaitAsync(TimeSpan.FromSeconds(30))).IsError);

        var same = await rig.CallCancelTaskAsync(task: "T-100").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 was already cancelled.", Text(same));
        Assert.Equal("allowed_by_grant", same.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        Assert.Equal("arguments", same.Meta?["approvalbot"]?["scope"]?.GetValue<string>());

        using var cts = new CancellationTokenSource();
        var different = rig.CallCancelTaskAsync(cts.Token, task: "T-101");
        var parked = await ConsoleApi.WaitForPendingAsync(rig.Console, Tool);
        Assert.NotEqual(id.ToString(), parked.GetProperty("id").GetString());
        Assert.Contains("T-101", parked.GetProperty("arguments").GetString());
        Assert.False(different.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => different);
    }

    [Fact]
    public async Task A_duration_the_rule_does_not_offer_is_refused_and_changes_nothing()
    {
        await using var rig = await ConsoleRig.StartAsync(Policy);
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);
        var id = await rig.WaitForPendingIdAsync();

        var (response, body) = await ApproveAsync(rig.Console, id, "8h");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("offered: 15m, 1h", body.GetProperty("message").GetString());
        Assert.Equal("Pending", (await ConsoleApi.ListAsync(rig.Console)).Single().GetProperty("status").GetString());
        Assert.False(call.IsCompleted);
        Assert.Empty(await GrantsAsync(rig.Console, "all"));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task A_policy_reload_that_drops_the_rule_ends_its_grants_and_the_next_call_parks()
    {
        await using var rig = await ConsoleRig.StartAsync(Policy);
        var grantId = await GrantAnHourAsync(rig);

        // The exact rule goes; the glob still guards the tool, without grants.
        const string withoutRule = """
            {
              "version": "1",
              "default": "deny",
              "rules": {
                "agentwork_list_*": { "action": "allow" },
                "agentwork_cancel_*": { "action": "require_approval", "reason": "Any other cancel", "timeout": "10m" }
              }
            }
            """;
        await File.WriteAllTextAsync(rig.Host.PolicyPath, withoutRule);
        Assert.Empty(rig.Host.Get<PolicyStore>().Reload());

        var ended = await Eventually.GetAsync(
            async () => (await GrantsAsync(rig.Console, "all")).SingleOrDefault(),
            g => g.ValueKind == JsonValueKind.Object && !g.GetProperty("active").GetBoolean(),
            what: "the grant to end after the reload");
        Assert.Equal(grantId, ended.GetProperty("id").GetString());
        Assert.Equal("rule_removed", ended.GetProperty("endReason").GetString());

        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token, task: "T-101");
        var parked = await ConsoleApi.WaitForPendingAsync(rig.Console, Tool);
        Assert.Equal("Any other cancel", parked.GetProperty("reason").GetString());
        Assert.False(call.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task A_policy_reload_that_changes_the_rule_ends_its_grants()
    {
        await using var rig = await ConsoleRig.StartAsync(Policy);
        await GrantAnHourAsync(rig);

        var changed = Policy.Replace("Cancels a running task; cannot be undone", "Cancels a running task", StringComparison.Ordinal);
        Assert.NotEqual(Policy, changed);
        await File.WriteAllTextAsync(rig.Host.PolicyPath, changed);
        Assert.Empty(rig.Host.Get<PolicyStore>().Reload());

        var ended = await Eventually.GetAsync(
            async () => (await GrantsAsync(rig.Console, "all")).SingleOrDefault(),
            g => g.ValueKind == JsonValueKind.Object && !g.GetProperty("active").GetBoolean(),
            what: "the grant to end after the reload");
        Assert.Equal("rule_changed", ended.GetProperty("endReason").GetString());

        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token, task: "T-101");
        await ConsoleApi.WaitForPendingAsync(rig.Console, Tool);
        Assert.False(call.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task A_grant_survives_a_restart_of_the_gateway()
    {
        var directory = RepoPaths.NewTempDirectory();
        string grantId;
        await using (var rig = await ConsoleRig.StartAsync(Policy, directory))
        {
            grantId = await GrantAnHourAsync(rig);
        }

        await using var restarted = await ConsoleRig.StartAsync(Policy, directory);
        var result = await restarted.CallCancelTaskAsync(task: "T-101").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("Task T-101 (Rebuild search index) cancelled.", Text(result));
        Assert.Equal("allowed_by_grant", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        Assert.Equal(grantId, result.Meta?["approvalbot"]?["grantId"]?.GetValue<string>());
        Assert.Empty(await ConsoleApi.ListAsync(restarted.Console));
        Assert.Equal(grantId, Assert.Single(await GrantsAsync(restarted.Console)).GetProperty("id").GetString());
    }

    /// <summary>Parks a call for T-100, approves it for 1h from the console and waits for it to run; returns the grant id.</summary>
    internal static async Task<string> GrantAnHourAsync(ChannelRig rig)
    {
        var call = rig.CallCancelTaskAsync(task: "T-100");
        var id = await rig.WaitForPendingIdAsync();
        var (response, body) = await ApproveAsync(rig.Console, id, "1h");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(true, (await call.WaitAsync(TimeSpan.FromSeconds(30))).IsError);
        var grantId = body.GetProperty("grantId").GetString()!;
        await Eventually.GetAsync<JsonElement[]>(async () => await GrantsAsync(rig.Console), g => g?.Length == 1, what: "the grant in the console");
        return grantId;
    }

    internal static async Task<(HttpResponseMessage Response, JsonElement Body)> ApproveAsync(HttpClient console, Guid id, string grant)
    {
        var response = await console.PostAsJsonAsync($"/api/approvals/{id}/approve", new { comment = (string?)null, grant });
        return (response, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    internal static async Task<JsonElement[]> GrantsAsync(HttpClient console, string status = "active") =>
        (await console.GetFromJsonAsync<JsonElement[]>($"/api/grants?status={status}"))!;

    internal static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    /// <summary>The host with the console only (no chat fakes).</summary>
    private sealed class ConsoleRig : ChannelRig
    {
        private ConsoleRig(Started started)
            : base(started)
        {
        }

        public static async Task<ConsoleRig> StartAsync(string policy, string? dataDirectory = null) =>
            new(await StartAsync(_ => Task.FromResult<IEnumerable<string>>([]), policy, dataDirectory));
    }
}
