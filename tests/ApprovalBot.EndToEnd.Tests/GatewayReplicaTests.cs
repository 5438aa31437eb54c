using System.Net;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Identity;
using ApprovalBot.Tests.Shared;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Two gateway processes on one PostgreSQL and one RabbitMQ, one bot (on SQLite) deciding through its
/// console API: decisions compete on the replicas' shared queue, and a call waiting on one replica is
/// released whichever replica applied its decision. (Killing replicas: HighAvailabilityTests.)
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class GatewayReplicaTests(RabbitMqNode rabbit, PostgresServer postgres) : IClassFixture<PostgresServer>, IAsyncLifetime
{
    /// <summary>A virtual host of its own: no event an earlier test left on the broker reaches this bot.</summary>
    private IReadOnlyList<string> _bus = [];

    public async Task InitializeAsync() => _bus = await rabbit.IsolatedSettingsAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private const string Tool = "agentwork_cancel_task";
    private static readonly Dictionary<string, object?> CancelT100 = new() { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey };

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

    private IEnumerable<string> Gateway(string directory, string policy, string instance, string connectionString, string holdFor) =>
        Common(Path.Combine(directory, instance), "gateway", policy).Concat(
        [
            $"--ApprovalBot:Gateway:InstanceId={instance}",
            "--ApprovalBot:Storage:Provider=Postgres",
            $"--ApprovalBot:Storage:Postgres:ConnectionString={connectionString}",
            $"--ApprovalBot:Approvals:HoldFor={holdFor}",
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

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    [Fact]
    public async Task A_call_waiting_on_one_replica_is_released_whichever_replica_applies_the_decision()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = await WritePolicyAsync(directory);
        var connectionString = await postgres.CreateDatabaseAsync();
        var suffix = Guid.NewGuid().ToString("n")[..6];
        await using var a = await AppProcess.StartAsync(Gateway(directory, policy, "gw-a-" + suffix, connectionString, "00:01:00"));
        await using var b = await AppProcess.StartAsync(Gateway(directory, policy, "gw-b-" + suffix, connectionString, "00:01:00"));
        await using var bot = await AppProcess.StartAsync(Common(Path.Combine(directory, "bot"), "bot", policy));
        using var console = Console(bot.BaseUrl);
        await using var onA = await ConnectAsync(a.BaseUrl);

        // Decisions compete on the shared queue, so some land on B: each waiting call on A is released either way.
        foreach (var task in new[] { "T-100", "T-101", "T-102" })
        {
            var waiting = onA.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = task, ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
            var pending = await ConsoleApi.WaitForPendingAsync(console, Tool);
            var (response, _) = await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.IsError != true, Text(result));
            Assert.StartsWith($"Task {task} ", Text(result));
        }
    }
}
