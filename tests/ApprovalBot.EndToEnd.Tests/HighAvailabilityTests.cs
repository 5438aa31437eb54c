using System.Net;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Storage;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Identity;
using ApprovalBot.Tests.Shared;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Two gateways and two bots, as the <c>ha</c> profile runs them: separate processes of the real
/// executable on one real RabbitMQ and one real PostgreSQL, Slack through its local fake. Replicas
/// are killed with SIGKILL mid-flow; no approval is lost and nothing runs twice (each gateway's own
/// sample upstream appends every execution to one shared log).
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class HighAvailabilityTests(RabbitMqNode rabbit, PostgresServer postgres) : IClassFixture<PostgresServer>
{
    private const string Tool = "agentwork_cancel_task";
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";

    [Fact]
    public async Task A_call_handed_back_by_a_gateway_that_is_then_killed_is_approved_at_the_other_bot_and_redeemed_on_the_other_gateway()
    {
        await using var stack = await Stack.StartAsync(rabbit, postgres, holdFor: "00:00:02");
        await using var gatewayA = await stack.StartGatewayAsync("a");
        await using var gatewayB = await stack.StartGatewayAsync("b");
        await using var bot1 = await stack.StartBotAsync("1");

        // Handed back by A (the agent's client would have given up long before a person answers).
        await using (var agentOnA = await Stack.ConnectAsync(gatewayA))
        {
            var handedBack = await Stack.CallAsync(agentOnA);
            Assert.True(handedBack.IsError);
            Assert.Contains("pending", handedBack.Meta?["approvalbot"]?["status"]?.ToString() ?? "", StringComparison.Ordinal);
        }

        var (id, card) = await stack.CardAsync();
        // Bot 2 starts after the card was posted: it did not post it, and it has never seen the approval.
        await using var bot2 = await stack.StartBotAsync("2");
        gatewayA.Kill();
        await gatewayA.WaitForExitAsync(TimeSpan.FromSeconds(30));

        await stack.ClickAsync(bot2, SlackActionIds.Approve, id, card);
        await stack.Slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == id && OutcomeText(c).Contains("Approved", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        // The agent's identical call, now on gateway B, collects the approval.
        await using var agentOnB = await Stack.ConnectAsync(gatewayB);
        var result = await Stack.CallAsync(agentOnB);
        Assert.True(result.IsError is not true, Stack.Text(result));
        Assert.Equal(SampleResult, Stack.Text(result));
        Assert.Equal(["cancel_task T-100"], await stack.ExecutionsAsync());

        // The shared database says so too: executed by B, claimed once.
        await using (var database = new PostgresDatabase(stack.ConnectionString, "gateway"))
        {
            var store = new GatewayStore(database);
            var record = (await store.GetApprovalAsync(id, CancellationToken.None))!;
            Assert.Equal(ApprovalStatus.Executed, record.Status);
            Assert.StartsWith("ha-b-", record.Instance, StringComparison.Ordinal);
            var audit = await Eventually.GetAsync<IReadOnlyList<AuditRecord>>(
                async () => await store.ReadApprovalAuditAsync(id, CancellationToken.None),
                rows => rows?.Any(r => r.Decision == "executed") == true,
                TimeSpan.FromSeconds(30),
                "the execution in the audit");
            Assert.Single(audit, r => r.Decision == "claimed");
        }

        // Collected once: calling again asks anew (a new approval), it does not run the old one.
        var again = await Stack.CallAsync(agentOnB);
        Assert.True(again.IsError);
        Assert.Single(await stack.ExecutionsAsync());
    }

    [Fact]
    public async Task A_bot_killed_between_posting_and_the_click_leaves_the_card_to_the_other_bot()
    {
        await using var stack = await Stack.StartAsync(rabbit, postgres, holdFor: "00:02:00");
        await using var gatewayA = await stack.StartGatewayAsync("a");
        await using var gatewayB = await stack.StartGatewayAsync("b");
        var bots = new Dictionary<string, AppProcess>(StringComparer.Ordinal);
        try
        {
            foreach (var name in new[] { "1", "2" })
            {
                bots[stack.BotInstanceId(name)] = await stack.StartBotAsync(name);
            }

            await using var agentOnA = await Stack.ConnectAsync(gatewayA);
            var waiting = Stack.CallAsync(agentOnA);

            // One card, posted by whichever bot took the request; the shared store says which, and the ts.
            var (id, card) = await stack.CardAsync();
            var poster = await stack.PosterOfAsync(id);
            Assert.Contains(poster, bots.Keys);
            bots[poster].Kill();
            await bots[poster].WaitForExitAsync(TimeSpan.FromSeconds(30));
            var survivor = bots.Single(b => b.Key != poster).Value;

            await stack.ClickAsync(survivor, SlackActionIds.Approve, id, card);

            // The waiting call on A is released with the upstream's result; the survivor replaced the dead bot's card in place.
            var result = await waiting.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(SampleResult, Stack.Text(result));
            var update = await stack.Slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == id && OutcomeText(c).Contains("Approved", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            Assert.Equal((card.Get("channel"), stack.Slack.TsOf(card)), (update.Get("channel"), update.Get("ts")));
            Assert.Single(stack.Slack.CallsTo("chat.postMessage"), c => c.Succeeded && c.ApprovalId == id && c.Get("thread_ts") is null);
            Assert.Equal(["cancel_task T-100"], await stack.ExecutionsAsync());
            AssertNoSecretIn(stack.Slack);
            Assert.DoesNotContain(GatewayHost.SampleApiKey, survivor.Output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var bot in bots.Values)
            {
                await bot.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_task_whose_gateway_was_killed_is_ended_by_the_other_gateway_and_its_approval_redeemed_there()
    {
        await using var stack = await Stack.StartAsync(rabbit, postgres, holdFor: "00:00:02");
        await using var gatewayA = await stack.StartGatewayAsync("a");
        await using var gatewayB = await stack.StartGatewayAsync("b");
        await using var bot1 = await stack.StartBotAsync("1");
        var args = new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey };

        // The TypeScript SDK client asks gateway A for a task, then polls it; A dies while people decide.
        using var stopClientOnA = new CancellationTokenSource();
        var onA = NodeMcpClient.RunAsync(new Uri(gatewayA.BaseUrl, "/mcp"), new object[] { new { op = "callToolTask", name = Tool, args } }, GatewayHost.AgentKey, stopClientOnA.Token);
        var (id, card) = await stack.CardAsync();
        var taskId = await stack.TaskWaitingForAsync(id);
        gatewayA.Kill();
        await gatewayA.WaitForExitAsync(TimeSpan.FromSeconds(30));
        // What that client does once its gateway is gone is its own business; the agent's next poll goes to B.
        await stopClientOnA.CancelAsync();
        try
        {
            await onA.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (OperationCanceledException)
        {
        }

        // Gateway B tells the polling agent the task ended (not "working" for ever), and how to go on.
        var onB = await NodeMcpClient.RunAsync(new Uri(gatewayB.BaseUrl, "/mcp"), new object[] { new { op = "getTask", taskId, waitMs = 60_000 } }, GatewayHost.AgentKey);
        var ended = onB["results"]![0]!;
        Assert.True(ended["task"]!["status"]!.GetValue<string>() == "completed", ended.ToJsonString());
        var text = ended["result"]!["content"]![0]!["text"]!.GetValue<string>();
        Assert.Contains("stopped", text, StringComparison.Ordinal);
        Assert.Contains(id.ToString(), text, StringComparison.Ordinal);
        Assert.Empty(await stack.ExecutionsAsync());

        // As it says: the identical call on B joins the same approval, and collects it once approved.
        await using var agentOnB = await Stack.ConnectAsync(gatewayB);
        var joined = await Stack.CallAsync(agentOnB);
        Assert.True(joined.IsError);
        Assert.Equal(id.ToString(), joined.Meta?["approvalbot"]?["approvalId"]?.ToString());
        await stack.ClickAsync(bot1, SlackActionIds.Approve, id, card);
        await stack.Slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == id && OutcomeText(c).Contains("Approved", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
        var result = await Stack.CallAsync(agentOnB);
        Assert.Equal(SampleResult, Stack.Text(result));
        Assert.Equal(["cancel_task T-100"], await stack.ExecutionsAsync());
    }

    [Fact]
    public async Task A_call_waiting_on_one_gateway_is_released_whichever_gateway_applies_the_decision()
    {
        await using var stack = await Stack.StartAsync(rabbit, postgres, holdFor: "00:01:00");
        await using var gatewayA = await stack.StartGatewayAsync("a");
        await using var gatewayB = await stack.StartGatewayAsync("b");
        await using var bot1 = await stack.StartBotAsync("1");
        using var console = new HttpClient { BaseAddress = bot1.BaseUrl };
        console.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayHost.AdminToken);
        await using var agentOnA = await Stack.ConnectAsync(gatewayA);

        // Decisions compete on the gateways' shared queue, so some land on B: each call waiting on A is released either way.
        foreach (var task in new[] { "T-100", "T-101", "T-102" })
        {
            var waiting = agentOnA.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = task, ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
            var pending = await ConsoleApi.WaitForPendingAsync(console, Tool);
            var (response, _) = await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(result.IsError != true, Stack.Text(result));
            Assert.StartsWith($"Task {task} ", Stack.Text(result));
        }
    }

    [Fact]
    public async Task Ten_identical_redeem_calls_over_both_gateways_run_the_tool_once()
    {
        await using var stack = await Stack.StartAsync(rabbit, postgres, holdFor: "00:00:00");
        await using var gatewayA = await stack.StartGatewayAsync("a");
        await using var gatewayB = await stack.StartGatewayAsync("b");
        await using var bot1 = await stack.StartBotAsync("1");
        await using var agentOnA = await Stack.ConnectAsync(gatewayA);
        await using var agentOnB = await Stack.ConnectAsync(gatewayB);

        Assert.True((await Stack.CallAsync(agentOnA)).IsError);
        var (id, card) = await stack.CardAsync();
        await stack.ClickAsync(bot1, SlackActionIds.Approve, id, card);
        await stack.Slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == id && OutcomeText(c).Contains("Approved", StringComparison.Ordinal), TimeSpan.FromSeconds(60));

        var calls = Enumerable.Range(0, 10).Select(i => Stack.CallAsync(i % 2 == 0 ? agentOnA : agentOnB)).ToList();
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(["cancel_task T-100"], await stack.ExecutionsAsync());
        // Whoever collected has the result (identical calls in one gateway share it); the rest were asked anew.
        var collected = results.Where(r => r.IsError != true).ToList();
        Assert.NotEmpty(collected);
        Assert.All(collected, r => Assert.Equal(SampleResult, Stack.Text(r)));
    }

    /// <summary>One PostgreSQL database, one Slack fake and one execution log shared by the replicas of a test.</summary>
    private sealed class Stack : IAsyncDisposable
    {
        private readonly IReadOnlyList<string> _bus;
        private readonly string _connectionString;
        private readonly string _directory;
        private readonly string _policy;
        private readonly string _executions;

        private Stack(IReadOnlyList<string> bus, string connectionString, FakeSlackApi slack, string directory, string policy, string holdFor)
        {
            _bus = bus;
            _connectionString = connectionString;
            Slack = slack;
            _directory = directory;
            _policy = policy;
            HoldFor = holdFor;
            _executions = Path.Combine(directory, "executions.log");
        }

        public FakeSlackApi Slack { get; }

        public string ConnectionString => _connectionString;

        public string HoldFor { get; }

        public static async Task<Stack> StartAsync(RabbitMqNode rabbit, PostgresServer postgres, string holdFor)
        {
            var connectionString = await postgres.CreateDatabaseAsync();
            var slack = await FakeSlackApi.StartAsync();
            slack.BotToken = BotToken;
            var directory = RepoPaths.NewTempDirectory();
            var policy = Path.Combine(directory, "policy.json");
            await File.WriteAllTextAsync(policy, TestPolicies.Standard);
            // A virtual host of its own: no event an earlier test left on the broker reaches these bots.
            return new Stack(await rabbit.IsolatedSettingsAsync(), connectionString, slack, directory, policy, holdFor);
        }

        public Task<AppProcess> StartGatewayAsync(string name) => AppProcess.StartAsync(Common("gateway", "gateway-" + name).Concat(
        [
            "--ApprovalBot:Gateway:InstanceId=ha-" + name + "-" + Path.GetFileName(_directory),
            $"--ApprovalBot:Approvals:HoldFor={HoldFor}",
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Env:AGENTWORK_EXECUTION_LOG={_executions}",
        ]));

        public Task<AppProcess> StartBotAsync(string name) => AppProcess.StartAsync(Common("bot", "bot-" + name).Concat(Settings(Slack)).Concat(
        [
            "--ApprovalBot:Bus:BotInstanceId=" + BotInstanceId(name),
        ]));

        public string BotInstanceId(string name) => "ha-bot-" + name + "-" + Path.GetFileName(_directory);

        /// <summary>The bot replica that claimed the posting of the approval's cards, once its Slack card is recorded.</summary>
        public async Task<string> PosterOfAsync(Guid approvalId)
        {
            await using var connection = new Npgsql.NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT a.post_claimed_by FROM bot.approvals a JOIN bot.cards c ON c.approval_id = a.id AND c.channel = 'slack' WHERE a.id = @id", connection);
            command.Parameters.AddWithValue("id", approvalId.ToString());
            return await Eventually.GetAsync(
                async () => await command.ExecuteScalarAsync() as string,
                poster => poster is not null,
                TimeSpan.FromSeconds(30),
                "the card's poster in the shared store") ?? throw new InvalidOperationException("no poster");
        }

        public static async Task<McpClient> ConnectAsync(AppProcess gateway) =>
            await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(gateway.BaseUrl, "/mcp"),
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + GatewayHost.AgentKey },
                TransportMode = HttpTransportMode.StreamableHttp,
            }));

        public static Task<CallToolResult> CallAsync(McpClient agent) =>
            agent.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();

        public static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

        /// <summary>
        /// The approval's id and its Slack card (whichever bot posted it). The stack's own virtual host
        /// keeps any other test's approval events away, so the first card is this test's.
        /// </summary>
        public async Task<(Guid Id, SlackApiCall Card)> CardAsync()
        {
            var card = await Slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId is not null, TimeSpan.FromSeconds(60));
            return (card.ApprovalId!.Value, card);
        }

        public async Task ClickAsync(AppProcess bot, string action, Guid id, SlackApiCall card)
        {
            using var http = new HttpClient { BaseAddress = bot.BaseUrl };
            using var click = SlackTestRequests.Signed(
                "/slack/interactions",
                SlackTestRequests.InteractionBody(SlackTestRequests.BlockActions(action, id, Approver, ApproverName, Channel, Slack.TsOf(card))),
                "application/x-www-form-urlencoded", SigningSecret, DateTimeOffset.UtcNow);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(click)).StatusCode);
        }

        /// <summary>The MCP task that waits for approval <paramref name="approvalId"/>, from the shared database (as any gateway sees it).</summary>
        public async Task<string> TaskWaitingForAsync(Guid approvalId)
        {
            await using var connection = new Npgsql.NpgsqlConnection(_connectionString);
            await connection.OpenAsync();
            return await Eventually.GetAsync(
                async () =>
                {
                    await using var command = new Npgsql.NpgsqlCommand("SELECT id FROM gateway.tasks WHERE approval_id = @id", connection);
                    command.Parameters.AddWithValue("id", approvalId.ToString());
                    return await command.ExecuteScalarAsync() as string;
                },
                id => id is not null,
                what: "the task to name its approval") ?? throw new InvalidOperationException("no task");
        }

        public async Task<IReadOnlyList<string>> ExecutionsAsync() =>
            File.Exists(_executions) ? (await File.ReadAllLinesAsync(_executions)).Where(l => l.Length > 0).ToList() : [];

        public async ValueTask DisposeAsync() => await Slack.DisposeAsync();

        private IEnumerable<string> Common(string role, string name) => _bus.Concat(
        [
            $"--ApprovalBot:Role={role}",
            $"--ApprovalBot:DataDirectory={Path.Combine(_directory, name)}",
            $"--ApprovalBot:PolicyPath={_policy}",
            "--ApprovalBot:Storage:Provider=Postgres",
            $"--ApprovalBot:Storage:Postgres:ConnectionString={_connectionString}",
            $"--ApprovalBot:Console:AdminToken={GatewayHost.AdminToken}",
            $"--ApprovalBot:Gateway:Agents:test-agent:ApiKeySha256={AgentAuthentication.HashKey(GatewayHost.AgentKey)}",
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Env:AGENTWORK_API_KEY={GatewayHost.SampleApiKey}",
            "--ApprovalBot:Gateway:HeartbeatInterval=00:00:01",
        ]);
    }
}
