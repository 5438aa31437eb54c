using System.Net;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Identity;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Scale-out as deployed: a gateway process and a bot process on a real RabbitMQ. A decision
/// taken on the bot's console reaches the gateway that holds the call.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class RabbitMqTests(RabbitMqNode rabbit) : IAsyncLifetime
{
    /// <summary>A virtual host of its own: no event an earlier test left on the broker reaches these processes.</summary>
    private IReadOnlyList<string> _bus = [];

    public async Task InitializeAsync() => _bus = await rabbit.IsolatedSettingsAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private IEnumerable<string> Common(string dataDirectory, string role, string policyPath) =>
        _bus.Concat(
        [
            $"--ApprovalBot:Role={role}",
            $"--ApprovalBot:DataDirectory={dataDirectory}",
            $"--ApprovalBot:PolicyPath={policyPath}",
            $"--ApprovalBot:Console:AdminToken={GatewayHost.AdminToken}",
            "--ApprovalBot:Gateway:AllowAnonymous=false",
            $"--ApprovalBot:Gateway:Agents:test-agent:ApiKeySha256={AgentAuthentication.HashKey(GatewayHost.AgentKey)}",
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Env:AGENTWORK_API_KEY={GatewayHost.SampleApiKey}",
            "--ApprovalBot:Gateway:HeartbeatInterval=00:00:01",
        ]);

    private static async Task<string> WritePolicyAsync(string directory)
    {
        var path = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(path, TestPolicies.Standard);
        return path;
    }

    private static Task<McpClient> ConnectAsync(Uri gateway) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(gateway, "/mcp"),
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + GatewayHost.AgentKey },
            TransportMode = HttpTransportMode.StreamableHttp,
        }));

    private static HttpClient Console(Uri bot)
    {
        var http = new HttpClient { BaseAddress = bot };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayHost.AdminToken);
        return http;
    }

    [Fact]
    public async Task Gateway_and_bot_as_two_processes_approve_and_deny_over_rabbitmq()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = await WritePolicyAsync(directory);
        var instance = "gw-" + Guid.NewGuid().ToString("n")[..8];
        await using var gateway = await AppProcess.StartAsync(Common(Path.Combine(directory, "gateway"), "gateway", policy).Append($"--ApprovalBot:Gateway:InstanceId={instance}"));
        await using var bot = await AppProcess.StartAsync(Common(Path.Combine(directory, "bot"), "bot", policy));
        using var console = Console(bot.BaseUrl);

        // The bot role has no MCP front; the gateway role has no console.
        Assert.Equal(HttpStatusCode.NotFound, (await new HttpClient().GetAsync(new Uri(bot.BaseUrl, "/mcp"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await new HttpClient().GetAsync(new Uri(gateway.BaseUrl, "/api/approvals"))).StatusCode);

        await using var client = await ConnectAsync(gateway.BaseUrl);
        var approved = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        Assert.Equal(instance, pending.GetProperty("gateway").GetString());
        var (response, body) = await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Approved", body.GetProperty("status").GetString());
        var result = await approved.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);

        var denied = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-101", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var second = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        await ConsoleApi.DecideAsync(console, second.GetProperty("id").GetString()!, approve: false, "not during business hours");
        var refusal = await denied.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(refusal.IsError);
        Assert.Contains("not during business hours", Assert.IsType<TextContentBlock>(refusal.Content[0]).Text);

        Assert.DoesNotContain(GatewayHost.SampleApiKey, gateway.Output);
        Assert.DoesNotContain(GatewayHost.SampleApiKey, bot.Output);
    }

    [Fact]
    public async Task Gateway_restarted_while_pending_keeps_the_approval_and_the_identical_call_collects_it()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = await WritePolicyAsync(directory);
        var instance = "gw-" + Guid.NewGuid().ToString("n")[..8];
        var gatewayArgs = Common(Path.Combine(directory, "gateway"), "gateway", policy).Append($"--ApprovalBot:Gateway:InstanceId={instance}").ToList();
        await using var bot = await AppProcess.StartAsync(Common(Path.Combine(directory, "bot"), "bot", policy));
        using var console = Console(bot.BaseUrl);
        var port = AppProcess.FreePort();
        string id;
        await using (var gateway = await AppProcess.StartAsync(gatewayArgs, port: port))
        {
            var client = await ConnectAsync(gateway.BaseUrl);
            _ = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-102", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
            id = (await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task")).GetProperty("id").GetString()!;
            gateway.Kill();
        }

        await using var restarted = await AppProcess.StartAsync(gatewayArgs, port: port);
        // Still pending after the restart: approving it reaches the restarted gateway over its queue.
        Assert.Contains(await ConsoleApi.ListAsync(console, "pending"), a => a.GetProperty("id").GetString() == id);
        var (response, _) = await ConsoleApi.DecideAsync(console, id, approve: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var client2 = await ConnectAsync(restarted.BaseUrl);
        var collected = await client2.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-102", ["api_key"] = GatewayHost.SampleApiKey });
        Assert.Equal("Task T-102 (Send invoices) cancelled.", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(collected.Content[0]).Text);
        var again = await client2.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-102", ["api_key"] = GatewayHost.SampleApiKey }, cancellationToken: new CancellationTokenSource(TimeSpan.FromSeconds(3)).Token).AsTask()
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null, TaskScheduler.Default);
        Assert.True(again is null || again.IsError == true, "the spent approval never runs twice");
    }

    [Fact]
    public async Task Waiting_call_still_expires_when_the_broker_is_unreachable()
    {
        // The broker address is wrong from the start: publishing fails, the call must neither hang nor run.
        var directory = RepoPaths.NewTempDirectory();
        await using var host = await GatewayHost.StartAsync(
            withEverything: false,
            dataDirectory: directory,
            settings: ["--ApprovalBot:Bus:Transport=RabbitMq", "--ApprovalBot:Bus:RabbitMq:Host=127.0.0.1", $"--ApprovalBot:Bus:RabbitMq:Port={AppProcess.FreePort()}"]);
        await using var client = await host.ConnectAsync();

        var result = await client.CallToolAsync("agentwork_cancel_job", new Dictionary<string, object?> { ["id"] = 8 }).AsTask().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.IsError);
        Assert.StartsWith("Expired", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var jobs = await client.CallToolAsync("agentwork_list_jobs");
        Assert.Contains("\"Id\":8,\"Name\":\"patch-db\",\"Status\":\"pending\"", Assert.IsType<TextContentBlock>(jobs.Content[0]).Text);
    }
}
