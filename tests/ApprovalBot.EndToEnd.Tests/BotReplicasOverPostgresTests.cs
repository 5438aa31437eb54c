using System.Net;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Identity;
using ApprovalBot.Tests.Shared;
using Dapper;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using Npgsql;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Two bot replicas sharing one PostgreSQL store, with one gateway, over a real RabbitMQ (issue 15):
/// the replica that posted a card is killed with SIGKILL, the click reaches the other one, which
/// finds the card in the shared store, sends the decision, and updates the card it never posted.
/// On a virtual host of its own: the bot queue outlives its processes, so neither another test's bots
/// nor the events an earlier test left behind meet these.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class BotReplicasOverPostgresTests(RabbitMqNode rabbit) : IAsyncLifetime
{
    /// <summary>A virtual host of its own: no event an earlier test left on the broker reaches these bots.</summary>
    private IReadOnlyList<string> _bus = [];

    public async Task InitializeAsync() => _bus = await rabbit.IsolatedSettingsAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private const string Tool = "agentwork_cancel_task";
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";

    [Fact]
    public async Task A_card_posted_by_a_killed_bot_is_decided_and_updated_through_the_other()
    {
        // The same throw-away cluster the store tests use (the script prints the running one's port).
        var postgres = new PostgresServer();
        await postgres.InitializeAsync();
        var connectionString = await postgres.CreateDatabaseAsync();
        await using var slack = await FakeSlackApi.StartAsync();
        slack.BotToken = BotToken;
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policy, TestPolicies.Standard);
        var suffix = Guid.NewGuid().ToString("n")[..8];
        await using var gateway = await AppProcess.StartAsync(Common(directory, "gateway", policy).Append("--ApprovalBot:Gateway:InstanceId=gw-" + suffix));
        var bots = new Dictionary<string, AppProcess>(StringComparer.Ordinal);
        try
        {
            foreach (var name in new[] { "bot-1-" + suffix, "bot-2-" + suffix })
            {
                // Both replicas on the one Slack fake, the one PostgreSQL database, each with its own data folder.
                bots[name] = await AppProcess.StartAsync(Common(directory, name, policy, role: "bot")
                    .Concat(Settings(slack))
                    .Append($"--ApprovalBot:Bus:BotInstanceId={name}")
                    .Append("--ApprovalBot:Storage:Provider=Postgres")
                    .Append($"--ApprovalBot:Storage:Postgres:ConnectionString={connectionString}"));
            }

            await using var agent = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(gateway.BaseUrl, "/mcp"),
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + GatewayHost.AgentKey },
                TransportMode = HttpTransportMode.StreamableHttp,
            }));
            var call = agent.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();

            // One card, posted by whichever replica consumed the request; the shared store says which, and where.
            var posted = await slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId is not null, TimeSpan.FromSeconds(60));
            var id = posted.ApprovalId!.Value;
            await using var database = NpgsqlDataSource.Create(connectionString);
            await using var connection = await database.OpenConnectionAsync();
            var (poster, reference) = await Eventually.GetAsync(
                async () => await connection.QuerySingleOrDefaultAsync<(string? Poster, string? Reference)>(
                    "SELECT a.post_claimed_by, c.reference FROM bot.approvals a LEFT JOIN bot.cards c ON c.approval_id = a.id AND c.channel = 'slack' WHERE a.id = @id",
                    new { id = id.ToString() }),
                r => r.Poster is not null && r.Reference is not null,
                TimeSpan.FromSeconds(30),
                "the card's reference in the shared store");
            Assert.Contains(poster!, bots.Keys);
            var ts = reference![(reference!.IndexOf('|', StringComparison.Ordinal) + 1)..];

            // The replica that posted it dies without a word; the other one is left with its card.
            bots[poster!].Kill();
            await bots[poster!].WaitForExitAsync(TimeSpan.FromSeconds(30));
            var survivor = bots.Single(b => b.Key != poster).Value;
            using var survivorHttp = new HttpClient { BaseAddress = survivor.BaseUrl };
            using (var click = SlackTestRequests.Signed(
                "/slack/interactions",
                SlackTestRequests.InteractionBody(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, ts)),
                "application/x-www-form-urlencoded", SigningSecret, DateTimeOffset.UtcNow))
            {
                Assert.Equal(HttpStatusCode.OK, (await survivorHttp.SendAsync(click)).StatusCode);
            }

            Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>((await call.WaitAsync(TimeSpan.FromSeconds(60))).Content[0]).Text);
            // The survivor replaced the dead replica's card in place: chat.update of the original ts.
            var update = await slack.WaitForCallAsync(
                "chat.update",
                c => c.Succeeded && c.ApprovalId == id && OutcomeText(c).Contains("Approved", StringComparison.Ordinal),
                TimeSpan.FromSeconds(30));
            Assert.Equal((Channel, ts), (update.Get("channel"), update.Get("ts")));
            Assert.Single(slack.CallsTo("chat.postMessage"), c => c.Succeeded && c.ApprovalId == id && c.Get("thread_ts") is null);
            AssertNoSecretIn(slack);
        }
        finally
        {
            foreach (var bot in bots.Values)
            {
                await bot.DisposeAsync();
            }
        }
    }

    private IEnumerable<string> Common(string directory, string name, string policy, string? role = null) => _bus.Concat(
    [
        $"--ApprovalBot:Role={role ?? name}",
        $"--ApprovalBot:DataDirectory={Path.Combine(directory, name)}",
        $"--ApprovalBot:PolicyPath={policy}",
        $"--ApprovalBot:Console:AdminToken={GatewayHost.AdminToken}",
        $"--ApprovalBot:Gateway:Agents:test-agent:ApiKeySha256={AgentAuthentication.HashKey(GatewayHost.AgentKey)}",
        $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
        $"--ApprovalBot:Gateway:Upstreams:agentwork:Env:AGENTWORK_API_KEY={GatewayHost.SampleApiKey}",
        "--ApprovalBot:Gateway:HeartbeatInterval=00:00:01",
    ]);
}
