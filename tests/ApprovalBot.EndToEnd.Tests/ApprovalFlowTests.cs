using System.Net;
using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// require_approval end to end in one process (in-memory bus): a real MCP client blocks on a
/// guarded tool until a decision arrives through the console API.
/// </summary>
public sealed class ApprovalFlowTests : IAsyncLifetime
{
    private GatewayHost _host = null!;

    private readonly CapturingLoggerProvider _logs = new();

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync(withEverything: false, settings: ["--Logging:LogLevel:Default=Debug", "--Logging:LogLevel:Microsoft.AspNetCore=Debug"], customize: b => Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(b.Services, _logs));

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static Dictionary<string, object?> CancelArgs(string task = "T-100") =>
        new() { ["task_id"] = task, ["api_key"] = GatewayHost.SampleApiKey };

    [Fact]
    public async Task Approved_call_runs_upstream_with_the_real_secret_and_returns_its_result()
    {
        await using var client = await _host.ConnectAsync();
        using var console = _host.ConsoleClient();
        var call = client.CallToolAsync("agentwork_cancel_task", CancelArgs()).AsTask();

        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        Assert.False(call.IsCompleted);
        Assert.Equal("test-agent", pending.GetProperty("agent").GetString());
        Assert.DoesNotContain(GatewayHost.SampleApiKey, pending.GetRawText());
        Assert.Contains("[redacted]", pending.GetProperty("arguments").GetString());

        var (response, body) = await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Approved", body.GetProperty("status").GetString());

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(true, result.IsError);
        // The sample checks the key: only the real secret gets this answer.
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);

        var tasks = await client.CallToolAsync("agentwork_list_tasks");
        Assert.Contains("\"Id\":\"T-100\",\"Title\":\"Nightly data export\",\"Status\":\"cancelled\"", Assert.IsType<TextContentBlock>(tasks.Content[0]).Text);

        var decided = await Eventually.GetAsync(
            async () => (await ConsoleApi.ListAsync(console, "all")).FirstOrDefault(a => a.GetProperty("id").GetString() == pending.GetProperty("id").GetString()),
            a => a.ValueKind == JsonValueKind.Object && a.GetProperty("succeeded").ValueKind == JsonValueKind.True,
            what: "the execution outcome in the read model");
        Assert.Equal("Approved", decided.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Denied_call_tells_the_agent_who_denied_and_why()
    {
        await using var client = await _host.ConnectAsync();
        using var console = _host.ConsoleClient();
        var call = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-101")).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");

        await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: false, "the nightly run must finish");

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        var text = Assert.IsType<TextContentBlock>(result.Content[0]).Text;
        Assert.Contains("Denied", text);
        Assert.Contains("console admin", text);
        Assert.Contains("the nightly run must finish", text);
        Assert.Equal("denied", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());

        var tasks = await client.CallToolAsync("agentwork_list_tasks");
        Assert.Contains("\"Id\":\"T-101\",\"Title\":\"Rebuild search index\",\"Status\":\"running\"", Assert.IsType<TextContentBlock>(tasks.Content[0]).Text);
    }

    [Fact]
    public async Task Unanswered_approval_expires_and_says_so_not_denied()
    {
        await using var client = await _host.ConnectAsync();
        // agentwork_cancel_job has a 3 s timeout in the test policy.
        var result = await client.CallToolAsync("agentwork_cancel_job", new Dictionary<string, object?> { ["id"] = 7 }).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.IsError);
        var text = Assert.IsType<TextContentBlock>(result.Content[0]).Text;
        Assert.StartsWith("Expired", text);
        Assert.Contains("not denied", text);
        Assert.Equal("expired", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        using var console = _host.ConsoleClient();
        // The read model learns it over the bus, a moment after the agent does.
        await Eventually.GetAsync(
            async () => (JsonElement[]?)await ConsoleApi.ListAsync(console, "expired"),
            all => all?.Any(a => a.GetProperty("tool").GetString() == "agentwork_cancel_job") == true,
            what: "the expired approval in the console");
    }

    [Fact]
    public async Task Agent_cancellation_only_detaches_and_the_identical_call_collects_after_approval()
    {
        await using var client = await _host.ConnectAsync();
        using var console = _host.ConsoleClient();
        using var cts = new CancellationTokenSource();
        var call = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-102"), cancellationToken: cts.Token).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        var id = pending.GetProperty("id").GetString()!;
        await Eventually.GetAsync(
            async () => (await ConsoleApi.ListAsync(console, "all")).FirstOrDefault(a => a.GetProperty("id").GetString() == id),
            a => a.ValueKind == JsonValueKind.Object && a.GetProperty("status").GetString() == "Pending",
            what: "the approval to stay pending");
        var (response, _) = await ConsoleApi.DecideAsync(console, id, approve: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var collected = await client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-102"));
        Assert.Equal("Task T-102 (Send invoices) cancelled.", Assert.IsType<TextContentBlock>(collected.Content[0]).Text);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("OperationCanceledException", StringComparison.Ordinal) && l.Contains("fail", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Second_decision_changes_nothing_and_names_the_first()
    {
        await using var client = await _host.ConnectAsync();
        using var console = _host.ConsoleClient();
        var call = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-102")).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        var id = pending.GetProperty("id").GetString()!;

        await ConsoleApi.DecideAsync(console, id, approve: true);
        var (second, body) = await ConsoleApi.DecideAsync(console, id, approve: false, "too late");

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("Already approved by console admin.", body.GetProperty("message").GetString());
        Assert.NotEqual(true, (await call.WaitAsync(TimeSpan.FromSeconds(30))).IsError);
    }

    [Fact]
    public async Task Identical_pending_calls_share_one_approval_and_each_gets_the_outcome()
    {
        await using var client = await _host.ConnectAsync();
        using var console = _host.ConsoleClient();
        var first = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-100")).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        var second = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-100")).AsTask();
        await Eventually.GetAsync(
            async () =>
            {
                await _host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
                return await _host.Get<GatewayStore>().ReadAuditAsync(Guid.Parse(pending.GetProperty("id").GetString()!), 50, CancellationToken.None);
            },
            rows => rows?.Any(r => r.Decision == "held_duplicate") == true,
            what: "the second call to join the first approval");

        Assert.Single(await ConsoleApi.ListAsync(console));
        var id = pending.GetProperty("id").GetString()!;
        await ConsoleApi.DecideAsync(console, id, approve: false, "no");

        // Both waiting calls hear the one denial (who and why) of the one approval; nothing ran.
        var results = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(results, r =>
        {
            Assert.True(r.IsError);
            Assert.Equal("Denied: console admin denied agentwork_cancel_task (no). The call was not made.", Assert.IsType<TextContentBlock>(r.Content[0]).Text);
            Assert.Equal(id, r.Meta?["approvalbot"]?["approvalId"]?.ToString());
        });
        await _host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
        var audit = await _host.Get<GatewayStore>().ReadAuditAsync(Guid.Parse(id), 50, CancellationToken.None);
        Assert.DoesNotContain(audit, a => a.Decision is "claimed" or "executed");
        Assert.Equal(ApprovalBot.Core.Approvals.ApprovalStatus.Denied, (await _host.Get<GatewayStore>().GetApprovalAsync(Guid.Parse(id), CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Identical_waiting_calls_approved_once_share_one_upstream_execution()
    {
        await using var client = await _host.ConnectAsync();
        await using var second = await _host.ConnectAsync(); // another session of the same agent
        using var console = _host.ConsoleClient();
        var first = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-101")).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        var id = Guid.Parse(pending.GetProperty("id").GetString()!);
        var joined = second.CallToolAsync("agentwork_cancel_task", CancelArgs("T-101")).AsTask();
        await Eventually.GetAsync(
            async () =>
            {
                await _host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
                return await _host.Get<GatewayStore>().ReadAuditAsync(id, 50, CancellationToken.None);
            },
            rows => rows?.Any(r => r.Decision == "held_duplicate") == true,
            what: "the second call to join the first approval");

        await ConsoleApi.DecideAsync(console, id.ToString(), approve: true);

        // The sample answers "already cancelled" to a second execution: both got the one real one.
        var results = await Task.WhenAll(first, joined).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(results, r => Assert.Equal("Task T-101 (Rebuild search index) cancelled.", Assert.IsType<TextContentBlock>(r.Content[0]).Text));
        await _host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
        var audit = await _host.Get<GatewayStore>().ReadAuditAsync(id, 50, CancellationToken.None);
        Assert.Single(audit, a => a.Decision == "claimed");
        Assert.Single(audit, a => a.Decision == "executed");
        Assert.Equal(ApprovalBot.Core.Approvals.ApprovalStatus.Executed, (await _host.Get<GatewayStore>().GetApprovalAsync(id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Pending_cap_per_agent_refuses_at_once()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false, settings: ["--ApprovalBot:Approvals:MaxPendingPerAgent=1"]);
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        using var cts = new CancellationTokenSource();
        var first = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-100"), cancellationToken: cts.Token).AsTask();
        await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");

        var refused = await client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-101"));

        Assert.True(refused.IsError);
        Assert.Contains("limit 1", Assert.IsType<TextContentBlock>(refused.Content[0]).Text);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
    }

    [Fact]
    public async Task Retry_mode_returns_at_once_and_the_identical_call_after_approval_runs_exactly_once()
    {
        await using var client = await _host.ConnectAsync();
        using var console = _host.ConsoleClient();
        var args = new Dictionary<string, object?> { ["name"] = "staging" };

        var first = await client.CallToolAsync("agentwork_delete_inventory", args);
        Assert.True(first.IsError);
        Assert.Contains("Call agentwork_delete_inventory again", Assert.IsType<TextContentBlock>(first.Content[0]).Text);
        var id = first.Meta?["approvalbot"]?["approvalId"]?.GetValue<string>();

        var stillPending = await client.CallToolAsync("agentwork_delete_inventory", args);
        Assert.StartsWith("Waiting for approval", Assert.IsType<TextContentBlock>(stillPending.Content[0]).Text);
        Assert.Equal(id, stillPending.Meta?["approvalbot"]?["approvalId"]?.GetValue<string>());

        await ConsoleApi.DecideAsync(console, id!, approve: true);
        var executed = await client.CallToolAsync("agentwork_delete_inventory", args);
        Assert.Equal("Inventory staging deleted.", Assert.IsType<TextContentBlock>(executed.Content[0]).Text);

        // The approval is spent: the same call again asks anew.
        var again = await client.CallToolAsync("agentwork_delete_inventory", args);
        Assert.True(again.IsError);
        Assert.NotEqual(id, again.Meta?["approvalbot"]?["approvalId"]?.GetValue<string>());
    }

    [Fact]
    public async Task Progress_is_reported_while_waiting()
    {
        await using var client = await _host.ConnectAsync();
        using var console = _host.ConsoleClient();
        var updates = new List<ProgressNotificationValue>();
        var call = client.CallToolAsync("agentwork_cancel_task", CancelArgs("T-102"), new Progress<ProgressNotificationValue>(p => { lock (updates) { updates.Add(p); } })).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        var id = pending.GetProperty("id").GetString()!;

        await Eventually.GetAsync(() => Task.FromResult<int?>(updates.Count), c => c >= 2, what: "progress while waiting");
        lock (updates)
        {
            Assert.Contains($"waiting for approval {id} in the approval console", updates[0].Message);
        }

        await ConsoleApi.DecideAsync(console, id, approve: false, "stop");
        Assert.True((await call.WaitAsync(TimeSpan.FromSeconds(30))).IsError);
    }

    [Fact]
    public async Task Console_api_refuses_without_the_token_and_get_never_decides()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseUrl };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/approvals?status=pending")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/api/approvals/{Guid.NewGuid()}/approve", null)).StatusCode);
        using var console = _host.ConsoleClient();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await console.GetAsync($"/api/approvals/{Guid.NewGuid()}/approve")).StatusCode);
    }
}
