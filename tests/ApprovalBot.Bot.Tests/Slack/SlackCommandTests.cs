using System.Net;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary><c>/policy</c> through the signed endpoint.</summary>
public sealed class SlackCommandTests : SlackHostTestBase
{
    protected override void Arrange()
    {
        var now = DateTimeOffset.UtcNow;
        var older = TestApprovals.Pending(tool: "awx_cancel_job", requestedAt: now.AddMinutes(-7));
        var newer = TestApprovals.Pending(tool: "agentwork_cancel_task", requestedAt: now.AddMinutes(-2)) with { AgentWaiting = false };
        var approved = TestApprovals.Pending(tool: "awx_delete_host", requestedAt: now.AddMinutes(-20)) with
        {
            Status = Core.Approvals.ApprovalStatus.Approved,
            DecidedBy = new Approver("slack", TestApprovals.Approver, "alice", SlackTestRequests.TeamId),
            ResolvedAt = now.AddMinutes(-10),
            CollectBy = new DateTimeOffset(2025, 6, 2, 10, 5, 0, TimeSpan.Zero),
        };
        Bot.Status.Snapshot = new StatusSnapshot(
            [
                new GatewayStatus(Heartbeat("gateway-eu-1", [new UpstreamHealth("agentwork", true, 12, null), new UpstreamHealth("awx", false, 0, "connection refused")]), now.AddSeconds(-3), true),
                new GatewayStatus(Heartbeat("gateway-us-2", [new UpstreamHealth("agentwork", true, 12, null)]), now.AddMinutes(-10), false),
            ],
            [newer, older],
            14,
            new TodayCounts(Approved: 3, Denied: 2, Expired: 1, Cancelled: 4, AutoAllowed: 40, DeniedByPolicy: 7) { Lapsed = 1 },
            now)
        {
            AwaitingCollection = [approved],
            AwaitingCollectionTotal = 2,
        };
    }

    [Theory]
    [InlineData("status")]
    [InlineData("")]
    [InlineData("  STATUS  ")]
    public async Task Status_shows_gateways_pending_counts_and_policy(string text)
    {
        var reply = await CommandAsync(text);

        Assert.Equal("ephemeral", reply["response_type"]!.GetValue<string>());
        Assert.Equal(10, Bot.Status.LastPendingLimit);
        var all = Text(reply);
        Assert.Contains("gateway-eu-1", all);
        Assert.Contains("gateway-us-2", all);
        Assert.Contains("offline", all);
        Assert.Contains("1 online of 2", all);
        Assert.Contains("agentwork :white_check_mark: 12 tools", all);
        Assert.Contains("awx :x: connection refused", all);
        Assert.Contains("default `deny`, 5 rules", all);
        Assert.Contains("PolicyLayer policy.json v1", all);
        Assert.Contains("*Pending approvals* — 14", all);
        Assert.Contains("awx_cancel_job", all);
        Assert.Contains("agentwork_cancel_task", all);
        Assert.True(all.IndexOf("awx_cancel_job", StringComparison.Ordinal) < all.IndexOf("`agentwork_cancel_task`", StringComparison.Ordinal), "oldest first");
        Assert.Contains("asked 7m ago", all);
        var lines = reply["blocks"]!.AsArray().Select(b => b!["text"]?["text"]?.GetValue<string>() ?? "").SelectMany(t => t.Split('\n')).ToList();
        Assert.Contains(lines, l => l.Contains("`awx_cancel_job`", StringComparison.Ordinal) && l.Contains(", agent waiting ·", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("`agentwork_cancel_task`", StringComparison.Ordinal) && l.Contains(", the agent will collect it on its next call ·", StringComparison.Ordinal));
        Assert.Contains("*Approved, waiting for the agent to call again* — 2", all);
        Assert.Contains(lines, l => l.Contains("`awx_delete_host`", StringComparison.Ordinal)
            && l.Contains($"approved by <@{TestApprovals.Approver}>, runs when the agent calls again (until 2025-06-02 10:05 UTC)", StringComparison.Ordinal));
        Assert.Contains("Approved 3 (1 never collected)", all);
        Assert.Contains("and 12 more", all);
        Assert.Contains("Approved 3", all);
        Assert.Contains("Denied 2", all);
        Assert.Contains("Expired 1", all);
        Assert.Contains("Auto-allowed 40", all);
        Assert.Contains("Denied by policy 7", all);
        Assert.All(reply["blocks"]!.AsArray(), b => Assert.True((b!["text"]?["text"]?.GetValue<string>().Length ?? 0) <= 3000));
    }

    [Fact]
    public async Task Pending_shows_only_the_pending_list()
    {
        var all = Text(await CommandAsync("pending"));
        Assert.Contains("awx_cancel_job", all);
        Assert.Contains("agentwork_cancel_task", all);
        Assert.DoesNotContain("gateway-eu-1", all);
        Assert.Contains("awx_delete_host", all); // approved, not collected yet
        Assert.DoesNotContain("Auto-allowed", all);
    }

    [Fact]
    public async Task Help_shows_usage()
    {
        var all = Text(await CommandAsync("help"));
        Assert.Contains("Usage", all);
        Assert.Contains("/policy status", all);
        Assert.Contains("/policy pending", all);
        Assert.DoesNotContain("Unknown", all);
        Assert.Null(Bot.Status.LastPendingLimit);
    }

    [Fact]
    public async Task Unknown_sub_command_shows_usage()
    {
        var reply = await CommandAsync("frobnicate now");
        Assert.Equal("ephemeral", reply["response_type"]!.GetValue<string>());
        var all = Text(reply);
        Assert.Contains("Unknown sub-command `frobnicate`", all);
        Assert.Contains("Usage", all);
    }

    [Fact]
    public async Task Nothing_pending_says_so()
    {
        Bot.Status.Snapshot = Bot.Status.Snapshot with { Gateways = [], Pending = [], PendingTotal = 0, AwaitingCollection = [], AwaitingCollectionTotal = 0 };
        var all = Text(await CommandAsync("status"));
        Assert.DoesNotContain("waiting for the agent to call again", all);
        Assert.Contains("No gateway has sent a heartbeat yet.", all);
        Assert.Contains("Nothing is waiting for a decision.", all);
    }

    private async Task<JsonNode> CommandAsync(string text)
    {
        using var response = await Bot.PostSignedAsync("/slack/commands", SlackTestRequests.SlashCommandBody(text, "U0ANYONE"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("application/json", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static string Text(JsonNode reply) =>
        reply["text"]!.GetValue<string>() + "\n" + string.Join("\n", reply["blocks"]!.AsArray().Select(b => b!.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })));

    private static GatewayHeartbeat Heartbeat(string instance, IReadOnlyList<UpstreamHealth> upstreams) =>
        new(instance, "1.0.0", "PolicyLayer policy.json v1", "deny", 5, DateTimeOffset.UtcNow.AddHours(-1), upstreams, 2,
            new DecisionCounts(40, 7, 0, 14), DateTimeOffset.UtcNow);
}
