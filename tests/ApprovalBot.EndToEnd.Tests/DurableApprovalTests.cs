using System.Text.Json.Nodes;
using ApprovalBot.Core.Approvals;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Approvals that outlive the agent's request, driven by the TypeScript SDK client with short
/// request timeouts (real clients give up after about a minute; people take longer).
/// </summary>
public sealed class DurableApprovalTests
{
    private const string Tool = "agentwork_cancel_task";
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";
    private static readonly object CancelArgs = new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey };

    private static object Call(object? args = null, int timeoutMs = 3000) => new { op = "callTool", name = Tool, args = args ?? CancelArgs, timeoutMs };

    private static Task<JsonObject> RunAsync(GatewayHost host, params object[] steps) => RunAsync(host, GatewayHost.AgentKey, steps);

    private static Task<JsonObject> RunAsync(GatewayHost host, string key, params object[] steps) => NodeMcpClient.RunAsync(host.McpUrl, steps, key);

    private static JsonNode Result(JsonObject run, int index) => run["results"]![index]!;

    private static string? Text(JsonNode result) => result["result"]?["content"]?[0]?["text"]?.GetValue<string>();

    private static string? Meta(JsonNode result, string key) => result["result"]?["_meta"]?["approvalbot"]?[key]?.ToString();

    private static async Task<int> ExecutionsAsync(GatewayHost host, Guid id)
    {
        await host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
        return (await host.Get<GatewayStore>().ReadAuditAsync(id, 100, CancellationToken.None)).Count(a => a.Decision == "claimed");
    }

    [Fact]
    public async Task Handed_back_before_the_client_times_out_then_the_identical_call_collects_the_result_once()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false, settings: ["--ApprovalBot:Approvals:HoldFor=00:00:02"]);
        using var console = host.ConsoleClient();

        var first = Result(await RunAsync(host, Call()), 0);
        Assert.True(first["result"]?["isError"]?.GetValue<bool>(), first.ToJsonString());
        Assert.StartsWith("Waiting for approval: agentwork_cancel_task", Text(first));
        Assert.Equal("pending", Meta(first, "status"));
        Assert.NotNull(Meta(first, "expiresAt"));
        Assert.True(int.Parse(Meta(first, "retryAfterSeconds")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        var id = Meta(first, "approvalId")!;
        Assert.Equal(ApprovalStatus.Pending, (await host.Get<GatewayStore>().GetApprovalAsync(Guid.Parse(id), CancellationToken.None))!.Status);

        await ConsoleApi.DecideAsync(console, id, approve: true);
        var later = await RunAsync(host, Call(), new { op = "callTool", name = "agentwork_list_tasks", args = new { } }, Call());

        Assert.Equal(SampleResult, Text(Result(later, 0)));
        Assert.Contains("\"Id\":\"T-100\",\"Title\":\"Nightly data export\",\"Status\":\"cancelled\"", Text(Result(later, 1)));
        // Spent: the same call again asks anew.
        Assert.Equal("pending", Meta(Result(later, 2), "status"));
        Assert.NotEqual(id, Meta(Result(later, 2), "approvalId"));
        Assert.Equal(1, await ExecutionsAsync(host, Guid.Parse(id)));
        Assert.Equal(ApprovalStatus.Executed, (await host.Get<GatewayStore>().GetApprovalAsync(Guid.Parse(id), CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Client_timing_out_first_leaves_the_approval_pending_and_collectable()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false, settings: ["--ApprovalBot:Approvals:HoldFor=00:00:20"]);
        using var console = host.ConsoleClient();

        var first = Result(await RunAsync(host, Call(timeoutMs: 2000)), 0);
        Assert.Equal(-32001, first["error"]?["code"]?.GetValue<int>());
        var pending = await ConsoleApi.WaitForPendingAsync(console, Tool);
        var id = pending.GetProperty("id").GetString()!;
        // The client gave up, nobody withdrew: still pending, not cancelled.
        await Task.Delay(500);
        Assert.Equal(ApprovalStatus.Pending, (await host.Get<GatewayStore>().GetApprovalAsync(Guid.Parse(id), CancellationToken.None))!.Status);

        await ConsoleApi.DecideAsync(console, id, approve: true);
        var later = Result(await RunAsync(host, Call(timeoutMs: 2000)), 0);

        Assert.Equal(SampleResult, Text(later));
        Assert.Equal(1, await ExecutionsAsync(host, Guid.Parse(id)));
    }

    [Fact]
    public async Task Only_the_same_agent_with_the_same_arguments_collects_and_a_denial_answers_the_identical_call()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false, settings: ["--ApprovalBot:Approvals:HoldFor=00:00:00"]);
        using var console = host.ConsoleClient();
        var id = Meta(Result(await RunAsync(host, Call()), 0), "approvalId")!;
        await ConsoleApi.DecideAsync(console, id, approve: true);

        var other = Result(await RunAsync(host, GatewayHost.AgentKey + "-other", Call()), 0);
        var otherArgs = Result(await RunAsync(host, Call(new Dictionary<string, object?> { ["task_id"] = "T-101", ["api_key"] = GatewayHost.SampleApiKey })), 0);
        Assert.Equal("pending", Meta(other, "status"));
        Assert.NotEqual(id, Meta(other, "approvalId"));
        Assert.NotEqual(id, Meta(otherArgs, "approvalId"));

        // A second MCP session of the same agent collects it.
        Assert.Equal(SampleResult, Text(Result(await RunAsync(host, Call()), 0)));

        // Denied while nobody waits: the identical call hears the denial instead of raising a new card.
        var deniedId = Meta(otherArgs, "approvalId")!;
        await ConsoleApi.DecideAsync(console, deniedId, approve: false, "wrong task");
        var denied = Result(await RunAsync(host, Call(new Dictionary<string, object?> { ["task_id"] = "T-101", ["api_key"] = GatewayHost.SampleApiKey })), 0);
        Assert.Equal("Denied: console admin denied agentwork_cancel_task (wrong task). The call was not made.", Text(denied));
        Assert.Equal(deniedId, Meta(denied, "approvalId"));
    }

    [Fact]
    public async Task Tasks_client_gets_a_task_at_once_sees_it_pending_and_collects_the_result_after_approval()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await GatewayHost.StartAsync(
            withEverything: false,
            settings: ["--Logging:LogLevel:ModelContextProtocol=Trace"], // the SDK names each request handler it calls
            customize: b => Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(b.Services, logs));
        using var console = host.ConsoleClient();

        var run = RunAsync(host, new { op = "callToolTask", name = Tool, args = CancelArgs });
        var pending = await ConsoleApi.WaitForPendingAsync(console, Tool);
        // The task names its approval a moment after the approval is opened (a second write): wait for that, as
        // the agent's own tasks/list shows it, so the poll counted below read the task after it.
        var waitingFor = "waiting for approval " + pending.GetProperty("id").GetString();
        await Eventually.GetAsync(
            async () => (bool?)Result(await RunAsync(host, new { op = "listTasks" }), 0)["list"]!["tasks"]!.AsArray()
                .Any(t => t!["statusMessage"]?.GetValue<string>().Contains(waitingFor, StringComparison.Ordinal) == true),
            named => named == true,
            what: "the task's status message naming the approval");
        // At least one poll while pending: wait until the gateway has answered a tasks/get of the client after that
        // (a condition, not a guessed time).
        int Polls() => logs.Lines.Count(l => l.Contains("method 'tasks/get' request handler completed", StringComparison.Ordinal));
        var pollsBefore = Polls();
        await Eventually.GetAsync(
            () => Task.FromResult<bool?>(Polls() > pollsBefore),
            polled => polled == true,
            what: "the client's first tasks/get while the approval is pending");
        await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
        var messages = Result(await run, 0)["messages"]!.AsArray();

        var created = messages.First(m => m!["type"]!.GetValue<string>() == "taskCreated")!;
        Assert.Equal("working", created["task"]!["status"]!.GetValue<string>());
        Assert.Contains(messages, m => m!["type"]!.GetValue<string>() == "taskStatus"
            && m["task"]!["status"]!.GetValue<string>() == "working"
            && m["task"]!["statusMessage"]!.GetValue<string>().Contains(waitingFor, StringComparison.Ordinal));
        var result = messages.Last()!;
        Assert.Equal("result", result["type"]!.GetValue<string>());
        Assert.Equal(SampleResult, result["result"]!["content"]![0]!["text"]!.GetValue<string>());

        var listed = Result(await RunAsync(host, new { op = "listTasks" }), 0)["list"]!["tasks"]!.AsArray();
        Assert.Contains(listed, t => t!["taskId"]!.GetValue<string>() == created["task"]!["taskId"]!.GetValue<string>() && t["status"]!.GetValue<string>() == "completed");
        // Tasks are the agent's own.
        var others = Result(await RunAsync(host, GatewayHost.AgentKey + "-other", new { op = "listTasks" }), 0)["list"]!["tasks"]!.AsArray();
        Assert.Empty(others);
    }

    [Fact]
    public async Task Tasks_client_hears_a_denial_as_an_error_result_and_cancel_withdraws_the_approval()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false);
        using var console = host.ConsoleClient();

        var run = RunAsync(host, new { op = "callToolTask", name = Tool, args = CancelArgs });
        var pending = await ConsoleApi.WaitForPendingAsync(console, Tool);
        await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: false, "not now");
        var deniedRun = Result(await run, 0)["messages"]!.AsArray();
        var denied = deniedRun.Last()!;
        Assert.True(denied["type"]!.GetValue<string>() == "result", deniedRun.ToJsonString());
        Assert.True(denied["result"]!["isError"]!.GetValue<bool>());
        Assert.StartsWith("Denied: console admin denied", denied["result"]!["content"]![0]!["text"]!.GetValue<string>());

        var otherArgs = new Dictionary<string, object?> { ["task_id"] = "T-102", ["api_key"] = GatewayHost.SampleApiKey };
        var cancelled = Result(await RunAsync(host, new { op = "callToolTask", name = Tool, args = otherArgs, cancel = true }), 0)["messages"]!.AsArray().Last()!;
        Assert.Equal("cancelled", cancelled["afterCancel"]!["status"]!.GetValue<string>());
        var withdrawn = await Eventually.GetAsync(
            async () => (await ConsoleApi.ListAsync(console, "cancelled")).Select(a => a.GetProperty("tool").GetString()).ToList(),
            l => l?.Contains(Tool) == true,
            what: "the task's approval to be withdrawn");
        Assert.Single(withdrawn);
    }
    [Fact]
    public async Task Progress_on_a_held_call_keeps_increasing_when_the_approved_upstream_reports_its_own()
    {
        // A guarded tool that reports progress itself: the gateway's "waiting" steps come first on the same token.
        var policy = TestPolicies.Standard.Replace(
            "\"everything_trigger-long-running-operation\": { \"action\": \"allow\" }",
            "\"everything_trigger-long-running-operation\": { \"action\": \"require_approval\", \"reason\": \"long\" }",
            StringComparison.Ordinal);
        Assert.NotEqual(TestPolicies.Standard, policy);
        await using var host = await GatewayHost.StartAsync(policy: policy, settings: ["--ApprovalBot:Approvals:HoldFor=00:01:00", "--ApprovalBot:Approvals:ProgressInterval=00:00:00.200"]);
        using var console = host.ConsoleClient();

        var run = RunAsync(host, new { op = "callTool", name = "everything_trigger-long-running-operation", args = new { duration = 1, steps = 4 }, progress = true, timeoutMs = 60_000 });
        var pending = await ConsoleApi.WaitForPendingAsync(console, "everything_trigger-long-running-operation");
        await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
        var report = await run;

        Assert.True(Result(report, 0)["result"]?["isError"]?.GetValue<bool>() != true, report.ToJsonString());
        var progress = report["progress"]!.AsArray().Select(p => p!["progress"]!.GetValue<double>()).ToList();
        var waiting = report["progress"]!.AsArray().Count(p => p!["message"]?.GetValue<string>().StartsWith("waiting for approval", StringComparison.Ordinal) == true);
        Assert.True(waiting >= 1, report.ToJsonString());
        Assert.True(progress.Count > waiting, "the upstream's own progress reached the agent: " + report.ToJsonString());
        // Strictly increasing across both sources, as the protocol requires of one token.
        Assert.True(progress.Zip(progress.Skip(1)).All(pair => pair.Second > pair.First), string.Join(", ", progress));
    }
}
