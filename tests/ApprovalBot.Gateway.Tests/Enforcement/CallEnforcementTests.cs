using System.Security.Claims;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Enforcement;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Tests.Enforcement;

/// <summary>The one place where policy decides: every verdict, rate limits in both modes, identities and hiding.</summary>
public sealed class CallEnforcementTests
{
    private const string Policy = """
        {
          "version": "1",
          "default": "deny",
          "hide": ["agentwork_secret_tool"],
          "rules": {
            "agentwork_list_tasks": { "action": "allow", "rate_limit": { "max": 2, "window": 60 } },
            "agentwork_ping": { "action": "allow" },
            "agentwork_cancel_task": { "action": "require_approval", "reason": "Cancels a task", "wait": "retry", "timeout": "10m", "rate_limit": { "max": 1, "window": 3600 } },
            "agentwork_delete_all": { "action": "deny", "reason": "Never in production" }
          },
          "identities": {
            "ops-agent": { "rules": { "agentwork_delete_all": { "action": "allow" } } },
            "readonly-agent": { "default": "deny", "rules": { "agentwork_ping": { "action": "allow" } } }
          }
        }
        """;

    private static string Shadow(string policy) => policy.Replace("\"version\": \"1\",", "\"version\": \"1\", \"mode\": \"shadow\",", StringComparison.Ordinal);

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    private static string? Meta(CallToolResult result, string key) => result.Meta?["approvalbot"]?[key]?.ToString();

    [Fact]
    public async Task Allowed_call_reaches_the_upstream_with_its_arguments_and_is_audited()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy);

        var result = await rig.CallAsync("agentwork_ping", new { to = "db-1" });

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("""ping: {"to":"db-1"}""", Text(result));
        Assert.Equal(["ping"], rig.UpstreamCalls);
        var row = Assert.Single(await rig.AuditAsync());
        Assert.Equal(("allowed", "agent-1", "agentwork_ping", "rules.agentwork_ping"), (row.Decision, row.Agent, row.Tool, row.Rule));
        Assert.Equal(rig.H.Digests.Compute(new Dictionary<string, System.Text.Json.JsonElement> { ["to"] = System.Text.Json.JsonSerializer.SerializeToElement("db-1") }), row.Digest);
    }

    [Fact]
    public async Task Denied_by_policy_never_reaches_the_upstream_and_says_why()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy);

        var result = await rig.CallAsync("agentwork_delete_all");

        Assert.True(result.IsError);
        Assert.Equal("Denied by policy: agentwork_delete_all is not allowed for agent 'agent-1' (Never in production).", Text(result));
        Assert.Equal("deny", Meta(result, "decision"));
        Assert.Equal(0, rig.Forwarded);
        Assert.Empty(rig.UpstreamCalls);
        Assert.Equal("denied", Assert.Single(await rig.AuditAsync()).Decision);
    }

    [Fact]
    public async Task Identity_rules_apply_to_their_agent_only()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy);

        var ops = await rig.CallAsync("agentwork_delete_all", agent: "ops-agent");
        var other = await rig.CallAsync("agentwork_delete_all", agent: "agent-1");
        var readonlyPing = await rig.CallAsync("agentwork_ping", agent: "readonly-agent");
        // readonly-agent's entry has its own default: the global allow of list_tasks does not apply to it.
        var readonlyList = await rig.CallAsync("agentwork_list_tasks", agent: "readonly-agent");

        Assert.NotEqual(true, ops.IsError);
        Assert.True(other.IsError);
        Assert.NotEqual(true, readonlyPing.IsError);
        Assert.True(readonlyList.IsError);
        Assert.Equal("Denied by policy: agentwork_list_tasks is not allowed for agent 'readonly-agent'.", Text(readonlyList));
        Assert.Equal(["delete_all", "ping"], rig.UpstreamCalls);
        var audit = await rig.AuditAsync();
        Assert.Equal(["ops-agent", "agent-1", "readonly-agent", "readonly-agent"], audit.Select(a => a.Agent));
        Assert.Equal(["allowed", "denied", "allowed", "denied"], audit.Select(a => a.Decision));
    }

    [Fact]
    public async Task Hidden_and_unknown_tools_get_the_same_error_and_the_hidden_one_is_not_listed()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy);

        var hidden = await Assert.ThrowsAsync<McpProtocolException>(() => rig.CallAsync("agentwork_secret_tool"));
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => rig.CallAsync("agentwork_no_such_tool"));

        Assert.Equal("Unknown tool: 'agentwork_secret_tool'", hidden.Message);
        Assert.Equal("Unknown tool: 'agentwork_no_such_tool'", unknown.Message);
        Assert.Equal(unknown.ErrorCode, hidden.ErrorCode);
        Assert.Equal(0, rig.Forwarded);
        Assert.Equal(["hidden", "unknown"], (await rig.AuditAsync()).Select(a => a.Decision));
        var listed = await rig.ListAsync();
        Assert.DoesNotContain("agentwork_secret_tool", listed);
        Assert.Contains("agentwork_delete_all", listed); // denied tools stay visible; only hide hides
    }

    [Fact]
    public async Task Rate_limit_is_a_sliding_window_per_agent_and_rule()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy);

        Assert.NotEqual(true, (await rig.CallAsync("agentwork_list_tasks")).IsError);
        rig.H.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.NotEqual(true, (await rig.CallAsync("agentwork_list_tasks")).IsError);
        var limited = await rig.CallAsync("agentwork_list_tasks");

        Assert.True(limited.IsError);
        Assert.Equal("Rate limited: agentwork_list_tasks allows 2 calls per 60 s for agent 'agent-1'. Retry after 30 s.", Text(limited));
        Assert.Equal("rate_limited", Meta(limited, "decision"));
        Assert.Equal("30", Meta(limited, "retryAfterSeconds"));
        // Another agent has its own window; another rule has its own count.
        Assert.NotEqual(true, (await rig.CallAsync("agentwork_list_tasks", agent: "agent-2")).IsError);
        Assert.NotEqual(true, (await rig.CallAsync("agentwork_ping")).IsError);
        Assert.Equal(4, rig.Forwarded);

        // The first call leaves the window after 60 s: one more fits, then the second call's turn.
        rig.H.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.NotEqual(true, (await rig.CallAsync("agentwork_list_tasks")).IsError);
        var again = await rig.CallAsync("agentwork_list_tasks");
        Assert.Equal("30", Meta(again, "retryAfterSeconds"));
        Assert.Equal(5, rig.Forwarded);
        Assert.Equal(2, (await rig.AuditAsync()).Count(a => a is { Decision: "rate_limited", Agent: "agent-1", Rule: "rules.agentwork_list_tasks" }));
    }

    [Fact]
    public async Task Only_a_guarded_call_that_would_open_an_approval_counts_against_the_rate_limit()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy);

        var first = await rig.CallAsync("agentwork_cancel_task", new { task_id = "T-1" });
        // The identical call joins its approval (wait: retry hands it back at once): not a new call.
        var again = await rig.CallAsync("agentwork_cancel_task", new { task_id = "T-1" });
        var other = await rig.CallAsync("agentwork_cancel_task", new { task_id = "T-2" });

        Assert.Equal("pending", Meta(first, "status"));
        Assert.Equal(Meta(first, "approvalId"), Meta(again, "approvalId"));
        Assert.Equal("rate_limited", Meta(other, "decision"));
        Assert.StartsWith("Rate limited: agentwork_cancel_task allows 1 calls per 3600 s for agent 'agent-1'.", Text(other));
        Assert.Equal(1, await rig.H.Store.CountPendingAsync(null, CancellationToken.None));
        Assert.Single(rig.H.Events.Requested);
        Assert.Equal(0, rig.Forwarded);
        Assert.Equal(["held", "handed_back", "held_duplicate", "handed_back", "rate_limited"], (await rig.AuditAsync()).Select(a => a.Decision));
    }

    [Fact]
    public async Task Shadow_mode_records_what_would_happen_and_lets_every_call_through()
    {
        await using var rig = await EnforcementRig.StartAsync(Shadow(Policy));
        Assert.Equal(ApprovalBot.Core.Policy.PolicyMode.Shadow, rig.Policies.Current.Mode);

        for (var i = 0; i < 3; i++)
        {
            Assert.NotEqual(true, (await rig.CallAsync("agentwork_list_tasks")).IsError);
        }

        var denied = await rig.CallAsync("agentwork_delete_all");
        var guarded = await rig.CallAsync("agentwork_cancel_task", new { task_id = "T-1" });

        Assert.Equal("delete_all: {}", Text(denied));
        Assert.Equal("""cancel_task: {"task_id":"T-1"}""", Text(guarded));
        Assert.Equal(["list_tasks", "list_tasks", "list_tasks", "delete_all", "cancel_task"], rig.UpstreamCalls);
        // Nothing was held: no approval, no card.
        Assert.Equal(0, await rig.H.Store.CountPendingAsync(null, CancellationToken.None));
        Assert.Empty(rig.H.Events.Requested);
        var decisions = (await rig.AuditAsync()).Select(a => a.Decision).ToList();
        Assert.Equal(["allowed", "allowed", "rate_limited", "allowed", "shadow_denied", "shadow_held"], decisions);
        // Hiding is not a shadow matter: a hidden tool stays unknown.
        await Assert.ThrowsAsync<McpProtocolException>(() => rig.CallAsync("agentwork_secret_tool"));
    }

    [Fact]
    public async Task The_agent_is_the_api_key_identity_the_stdio_agent_or_anonymous()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy, new GatewayOptions { StdioAgent = "desktop" });

        await rig.CallAsync("agentwork_ping", null, EnforcementRig.Agent("ci-bot"));
        await rig.CallAsync("agentwork_ping", null, (ClaimsPrincipal?)null);
        await rig.CallAsync("agentwork_ping", null, new ClaimsPrincipal(new ClaimsIdentity()));

        Assert.Equal(["ci-bot", "desktop", ApprovalBot.Gateway.Identity.AgentIdentity.Anonymous], (await rig.AuditAsync()).Select(a => a.Agent));
    }

    [Fact]
    public async Task A_guarded_call_is_held_until_approved_then_runs_once_with_the_approved_arguments()
    {
        await using var rig = await EnforcementRig.StartAsync(Policy);

        var first = await rig.CallAsync("agentwork_cancel_task", new { task_id = "T-7", api_key = "sk-live-0123456789abcdef" });
        var id = Guid.Parse(Meta(first, "approvalId")!);
        Assert.Equal(0, rig.Forwarded);
        Assert.DoesNotContain("sk-live-0123456789abcdef", Assert.Single(rig.H.Events.Requested).RedactedArguments);
        await rig.H.DecideAsync(id, Parking.LifecycleHarness.Alice, approve: true);

        var collected = await rig.CallAsync("agentwork_cancel_task", new { api_key = "sk-live-0123456789abcdef", task_id = "T-7" });

        Assert.Equal("""cancel_task: {"api_key":"sk-live-0123456789abcdef","task_id":"T-7"}""", Text(collected));
        Assert.Equal(1, rig.Forwarded);
        Assert.Equal(ApprovalStatus.Executed, (await rig.H.Store.GetApprovalAsync(id, CancellationToken.None))!.Status);
    }
}
