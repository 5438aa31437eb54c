using System.Net;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// More than one agent on one gateway, identified by real API keys: identity rules, rate limits and
/// the pending cap per agent (in enforce and shadow mode), and what anonymous access does and does not allow.
/// </summary>
public sealed class AgentIdentityTests
{
    private const string OtherKey = GatewayHost.AgentKey + "-other";

    private const string Policy = """
        {
          "version": "1",
          "default": "deny",
          "rules": {
            "agentwork_list_tasks": { "action": "allow" },
            "agentwork_ping": { "action": "allow", "rate_limit": { "max": 2, "window": 3600 } },
            "agentwork_delete_inventory": { "action": "require_approval", "wait": "retry", "timeout": "10m" }
          },
          "identities": {
            "other-agent": { "rules": { "agentwork_cancel_job": { "action": "allow" } } },
            "test-agent": { "default": "deny", "rules": { "agentwork_ping": { "action": "allow", "rate_limit": { "max": 2, "window": 3600 } }, "agentwork_delete_inventory": { "action": "require_approval", "wait": "retry", "timeout": "10m" } } }
          }
        }
        """;

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    private static string? Meta(CallToolResult result, string key) => result.Meta?["approvalbot"]?[key]?.ToString();

    private static async Task<IReadOnlyList<AuditEntry>> AuditAsync(GatewayHost host)
    {
        await host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
        return (await host.Get<GatewayStore>().ReadAuditAsync(null, 500, CancellationToken.None)).Reverse().ToList();
    }

    [Fact]
    public async Task Each_api_key_is_its_own_agent_with_its_own_rules_rate_limit_and_pending_cap()
    {
        await using var host = await GatewayHost.StartAsync(policy: Policy, withEverything: false, settings: ["--ApprovalBot:Approvals:MaxPendingPerAgent=1"]);
        await using var test = await host.ConnectAsync();
        await using var other = await host.ConnectAsync(OtherKey);

        // Identity rules: other-agent may cancel a job; test-agent's own default denies even what the global rules allow.
        Assert.Equal("Job 9 (backup) canceled.", Text(await other.CallToolAsync("agentwork_cancel_job", new Dictionary<string, object?> { ["id"] = 9 })));
        Assert.True((await test.CallToolAsync("agentwork_cancel_job", new Dictionary<string, object?> { ["id"] = 8 })).IsError);
        Assert.True((await test.CallToolAsync("agentwork_list_tasks")).IsError);
        Assert.NotEqual(true, (await other.CallToolAsync("agentwork_list_tasks")).IsError);

        // Rate limit per agent: two pings each; the third of one agent is refused, the other's still pass.
        Assert.Equal("pong", Text(await test.CallToolAsync("agentwork_ping")));
        Assert.Equal("pong", Text(await test.CallToolAsync("agentwork_ping")));
        var limited = await test.CallToolAsync("agentwork_ping");
        Assert.True(limited.IsError);
        Assert.StartsWith("Rate limited: agentwork_ping allows 2 calls per 3600 s for agent 'test-agent'.", Text(limited));
        Assert.Equal("pong", Text(await other.CallToolAsync("agentwork_ping")));
        Assert.Equal("pong", Text(await other.CallToolAsync("agentwork_ping")));

        // Pending cap per agent: test-agent is at its one pending approval; other-agent still gets its own.
        var mine = await test.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = "staging" });
        var refused = await test.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = "prod" });
        var theirs = await other.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = "staging" });
        Assert.Equal("pending", Meta(mine, "status"));
        Assert.Equal("approval_cap", Meta(refused, "decision"));
        Assert.Equal("pending", Meta(theirs, "status"));
        // The same call of another agent is another approval: nothing is shared between agents.
        Assert.NotEqual(Meta(mine, "approvalId"), Meta(theirs, "approvalId"));
        Assert.Equal(1, await host.Get<GatewayStore>().CountPendingAsync("test-agent", CancellationToken.None));
        Assert.Equal(1, await host.Get<GatewayStore>().CountPendingAsync("other-agent", CancellationToken.None));

        var audit = await AuditAsync(host);
        Assert.Single(audit, a => a is { Decision: "rate_limited", Agent: "test-agent" });
        Assert.DoesNotContain(audit, a => a is { Decision: "rate_limited", Agent: "other-agent" });
        Assert.Single(audit, a => a is { Decision: "approval_cap", Agent: "test-agent" });
    }

    [Fact]
    public async Task In_shadow_mode_the_limit_is_recorded_per_agent_and_nothing_is_refused()
    {
        var shadow = Policy.Replace("\"default\": \"deny\",\n  \"rules\"", "\"default\": \"deny\",\n  \"mode\": \"shadow\",\n  \"rules\"", StringComparison.Ordinal);
        Assert.Contains("shadow", shadow, StringComparison.Ordinal);
        await using var host = await GatewayHost.StartAsync(policy: shadow, withEverything: false);
        await using var test = await host.ConnectAsync();

        var pings = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            pings.Add(Text(await test.CallToolAsync("agentwork_ping")));
        }

        var denied = await test.CallToolAsync("agentwork_list_tasks");

        Assert.Equal(["pong", "pong", "pong"], pings);
        Assert.NotEqual(true, denied.IsError);
        var audit = await AuditAsync(host);
        Assert.Single(audit, a => a is { Decision: "rate_limited", Agent: "test-agent", Tool: "agentwork_ping" });
        Assert.Single(audit, a => a is { Decision: "shadow_denied", Agent: "test-agent", Tool: "agentwork_list_tasks" });
    }

    [Fact]
    public async Task Without_anonymous_access_a_missing_or_unknown_key_is_refused_before_any_mcp()
    {
        await using var host = await GatewayHost.StartAsync(policy: Policy, withEverything: false);

        await Assert.ThrowsAnyAsync<Exception>(() => host.ConnectAsync(apiKey: null));
        await Assert.ThrowsAnyAsync<Exception>(() => host.ConnectAsync(apiKey: "sk-nobody"));
        using var http = new HttpClient();
        using var response = await http.PostAsync(host.McpUrl, new StringContent("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_anonymous_access_a_call_without_a_key_is_agent_anonymous_and_a_wrong_key_is_still_refused()
    {
        const string policy = """
            { "version": "1", "default": "deny",
              "rules": { "agentwork_ping": { "action": "allow" } },
              "identities": { "anonymous": { "default": "deny", "rules": { "agentwork_list_jobs": { "action": "allow" } } } } }
            """;
        await using var host = await GatewayHost.StartAsync(policy: policy, withEverything: false, anonymous: true);
        await using var anonymous = await host.ConnectAsync(apiKey: null);
        await using var known = await host.ConnectAsync();

        var jobs = await anonymous.CallToolAsync("agentwork_list_jobs");
        var ping = await anonymous.CallToolAsync("agentwork_ping");

        Assert.Contains("deploy-web", Text(jobs));
        Assert.True(ping.IsError); // anonymous's own default applies to it
        Assert.Equal("Denied by policy: agentwork_ping is not allowed for agent 'anonymous'.", Text(ping));
        Assert.Equal("pong", Text(await known.CallToolAsync("agentwork_ping")));
        await Assert.ThrowsAnyAsync<Exception>(() => host.ConnectAsync(apiKey: "sk-nobody"));
        var audit = await AuditAsync(host);
        Assert.Equal(["anonymous", "anonymous", "test-agent"], audit.Where(a => a.Tool is not null).Select(a => a.Agent));
    }
}
