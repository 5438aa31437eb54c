using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// The gateway in front of real upstreams (@modelcontextprotocol/server-everything over stdio,
/// and the sample), driven by real clients (the C# SDK and the TypeScript SDK).
/// </summary>
[Collection(SharedGatewayCollection.Name)]
public sealed class ProxyTests(SharedGatewayFixture fixture)
{
    private GatewayHost Host => fixture.Host;

    [Fact]
    public async Task Tools_of_both_upstreams_are_merged_with_prefixes_and_hidden_ones_are_absent()
    {
        await using var client = await Host.ConnectAsync();
        var names = (await client.ListToolsAsync()).Select(t => t.Name).ToList();

        Assert.Contains("everything_echo", names);
        Assert.Contains("everything_trigger-long-running-operation", names);
        Assert.Contains("agentwork_cancel_task", names);
        Assert.Contains("agentwork_list_tasks", names);
        Assert.DoesNotContain("everything_get-env", names);
        Assert.DoesNotContain("echo", names);
    }

    [Fact]
    public async Task Allowed_call_returns_the_upstream_result_unchanged()
    {
        await using var client = await Host.ConnectAsync();
        var result = await client.CallToolAsync("everything_echo", new Dictionary<string, object?> { ["message"] = "hello through the gateway" });

        Assert.NotEqual(true, result.IsError);
        Assert.Contains("hello through the gateway", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
    }

    [Fact]
    public async Task Tool_definitions_pass_through_except_for_the_name()
    {
        await using var client = await Host.ConnectAsync();
        var echo = (await client.ListToolsAsync()).Single(t => t.Name == "everything_echo").ProtocolTool;

        Assert.Equal(true, echo.Annotations?.ReadOnlyHint);
        Assert.Contains("message", echo.InputSchema.GetRawText());
    }

    [Fact]
    public async Task Denied_call_is_an_error_result_with_the_reason_and_details()
    {
        await using var client = await Host.ConnectAsync();
        var result = await client.CallToolAsync("everything_get-tiny-image");

        Assert.True(result.IsError);
        var text = Assert.IsType<TextContentBlock>(result.Content[0]).Text;
        Assert.Contains("Images are not needed here", text);
        Assert.Equal("deny", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        Assert.Equal("rules.everything_get-tiny-image", result.Meta?["approvalbot"]?["rule"]?.GetValue<string>());
    }

    [Fact]
    public async Task Hidden_tool_is_indistinguishable_from_an_unknown_tool()
    {
        await using var client = await Host.ConnectAsync();
        var hidden = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("everything_get-env").AsTask());
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("everything_no-such-tool").AsTask());

        Assert.Equal(unknown.ErrorCode, hidden.ErrorCode);
        Assert.Equal(unknown.Message.Replace("everything_no-such-tool", "X"), hidden.Message.Replace("everything_get-env", "X"));
    }

    [Fact]
    public async Task Default_deny_applies_to_tools_no_rule_allows()
    {
        await using var client = await Host.ConnectAsync();
        var result = await client.CallToolAsync("everything_toggle-simulated-logging");

        Assert.True(result.IsError);
        Assert.Equal("default", result.Meta?["approvalbot"]?["rule"]?.GetValue<string>());
    }

    [Fact]
    public async Task Progress_notifications_pass_through_from_the_upstream()
    {
        await using var client = await Host.ConnectAsync();
        var updates = new List<ProgressNotificationValue>();
        var progress = new Progress<ProgressNotificationValue>(p => { lock (updates) { updates.Add(p); } });
        var result = await client.CallToolAsync(
            "everything_trigger-long-running-operation",
            new Dictionary<string, object?> { ["duration"] = 2, ["steps"] = 4 },
            progress);

        Assert.NotEqual(true, result.IsError);
        // The last notification may race the result inside the SDK client, so not every one is guaranteed.
        await Eventually.GetAsync(() => Task.FromResult<int?>(updates.Count), c => c >= 2, what: "progress notifications");
        lock (updates)
        {
            var values = updates.Select(u => (double)u.Progress).ToList();
            Assert.Equal(values.OrderBy(v => v), values);
            Assert.All(values, v => Assert.InRange(v, 1, 4));
            Assert.All(updates, u => Assert.Equal(4f, u.Total));
        }
    }

    [Fact]
    public async Task Sample_upstream_state_really_changes_through_the_gateway()
    {
        // Its own gateway: this changes the sample's state, which the shared one must not.
        const string policy = """{ "version": "1", "default": "deny", "rules": { "agentwork_list_jobs": { "action": "allow" }, "agentwork_cancel_job": { "action": "allow" } } }""";
        await using var host = await GatewayHost.StartAsync(policy: policy, withEverything: false);
        await using var client = await host.ConnectAsync();
        string Jobs(CallToolResult r) => Assert.IsType<TextContentBlock>(r.Content[0]).Text;
        var before = Jobs(await client.CallToolAsync("agentwork_list_jobs"));
        Assert.Contains("deploy-web", before);
        var job = System.Text.Json.JsonDocument.Parse(before).RootElement.EnumerateArray().First(j => j.GetProperty("Status").GetString() != "canceled");
        var id = job.GetProperty("Id").GetInt32();

        var cancelled = await client.CallToolAsync("agentwork_cancel_job", new Dictionary<string, object?> { ["id"] = id });
        var after = Jobs(await client.CallToolAsync("agentwork_list_jobs"));

        Assert.Equal($"Job {id} ({job.GetProperty("Name").GetString()}) canceled.", Jobs(cancelled));
        var now = System.Text.Json.JsonDocument.Parse(after).RootElement.EnumerateArray().Single(j => j.GetProperty("Id").GetInt32() == id);
        Assert.Equal("canceled", now.GetProperty("Status").GetString());
        Assert.NotEqual(before, after);
    }

    [Fact]
    public async Task TypeScript_sdk_client_lists_and_calls_through_the_gateway()
    {
        var report = await NodeMcpClient.RunAsync(Host.McpUrl, new object[]
        {
            new { op = "listTools" },
            new { op = "callTool", name = "everything_echo", args = new { message = "from typescript" } },
            new { op = "callTool", name = "everything_get-tiny-image" },
            new { op = "callTool", name = "everything_get-env" },
        }, GatewayHost.AgentKey);

        Assert.Null(report["connectError"]);
        var results = report["results"]!.AsArray();
        var tools = results[0]!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();
        Assert.Contains("agentwork_cancel_task", tools);
        Assert.DoesNotContain("everything_get-env", tools);
        Assert.Contains("from typescript", results[1]!["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.True(results[2]!["result"]!["isError"]!.GetValue<bool>());
        Assert.Contains("Unknown tool", results[3]!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_decision_is_in_the_audit_trail_without_argument_values()
    {
        await using var client = await Host.ConnectAsync();
        await client.CallToolAsync("everything_echo", new Dictionary<string, object?> { ["message"] = "audit-me-4711" });
        await client.CallToolAsync("everything_get-tiny-image");

        var audit = Host.Get<AuditTrail>();
        await audit.FlushAsync(CancellationToken.None);
        var rows = await Host.Get<GatewayStore>().ReadAuditAsync(null, 500, CancellationToken.None);
        Assert.Contains(rows, r => r is { Decision: "allowed", Tool: "everything_echo", Agent: "test-agent" } && r.Digest is { Length: 64 });
        Assert.Contains(rows, r => r is { Decision: "denied", Tool: "everything_get-tiny-image", Rule: "rules.everything_get-tiny-image" });
        Assert.DoesNotContain(rows, r => JsonSerializer.Serialize(r).Contains("audit-me-4711", StringComparison.Ordinal));
    }
}
