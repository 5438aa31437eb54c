using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Bot.Tests.Teams;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Identity;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Slack and Teams as deployed at scale: the gateway and the bot as two processes of the real
/// executable on a real RabbitMQ. The bot posts both cards; a signed Slack click and a Teams invoke
/// reach the bot's webhooks, their decisions cross the broker to the gateway holding the call, and
/// every card learns the outcome. No secret reaches either platform.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class ChannelsOverRabbitMqTests(RabbitMqNode rabbit) : IAsyncLifetime
{
    /// <summary>A virtual host of its own: no event an earlier test left on the broker reaches these processes.</summary>
    private IReadOnlyList<string> _bus = [];

    public async Task InitializeAsync() => _bus = await rabbit.IsolatedSettingsAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private const string Tool = "agentwork_cancel_task";
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";

    [Fact]
    public async Task A_slack_click_and_a_teams_invoke_at_the_bot_process_decide_calls_held_by_the_gateway_process()
    {
        await using var slack = await FakeSlackApi.StartAsync();
        slack.BotToken = BotToken;
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestIds.AppId, TeamsTestIds.AppPassword);
        _ = auth.Tenant(TeamsTestIds.TenantId);
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policy, TestPolicies.Standard);
        await using var gateway = await AppProcess.StartAsync(Common(directory, "gateway", policy).Append("--ApprovalBot:Gateway:InstanceId=gw-" + Guid.NewGuid().ToString("n")[..8]));
        await using var bot = await AppProcess.StartAsync(Common(directory, "bot", policy).Concat(Settings(slack)).Concat(TeamsEndToEndTests.Settings(auth, connector)));
        using var botHttp = new HttpClient { BaseAddress = bot.BaseUrl };
        using var console = new HttpClient { BaseAddress = bot.BaseUrl };
        console.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayHost.AdminToken);
        await using var agent = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(gateway.BaseUrl, "/mcp"),
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + GatewayHost.AgentKey },
            TransportMode = HttpTransportMode.StreamableHttp,
        }));
        Task<CallToolResult> Call(string task) =>
            agent.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = task, ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        async Task<(Guid Id, SlackApiCall Slack, ConnectorCall Teams)> CardsAsync()
        {
            var pending = await ConsoleApi.WaitForPendingAsync(console, Tool);
            var id = Guid.Parse(pending.GetProperty("id").GetString()!);
            var slackCard = await slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId == id, TimeSpan.FromSeconds(30));
            var teamsCard = await connector.WaitForCallAsync(c => c.Kind == "create" && c.Succeeded && c.Card?.ToJsonString().Contains(id.ToString(), StringComparison.Ordinal) == true);
            return (id, slackCard, teamsCard);
        }

        // Approved with a click in Slack.
        var approved = Call("T-100");
        var (id, slackCard, teamsCard) = await CardsAsync();
        using (var click = SlackTestRequests.Signed(
            "/slack/interactions",
            SlackTestRequests.InteractionBody(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, slack.TsOf(slackCard))),
            "application/x-www-form-urlencoded", SigningSecret, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await botHttp.SendAsync(click)).StatusCode);
        }

        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>((await approved.WaitAsync(TimeSpan.FromSeconds(60))).Content[0]).Text);
        await slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == id && OutcomeText(c).Contains("Approved", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Null((await FinalPutAsync(connector, teamsCard, "Approved")).Card!["actions"]);

        // Denied with an invoke in Teams.
        var denied = Call("T-101");
        var (second, _, secondTeamsCard) = await CardsAsync();
        using (var invoke = new HttpRequestMessage(HttpMethod.Post, "/api/messages"))
        {
            invoke.Content = new StringContent(
                TeamsActivities.Invoke(connector.ServiceUrl, "deny", second, TeamsEndToEndTests.PolicyApproverAadId, comment: "not on a Friday").ToJsonString(), Encoding.UTF8, "application/json");
            invoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth.CreateToken(TeamsTestIds.AppId, connector.ServiceUrl));
            using var response = await botHttp.SendAsync(invoke);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(200, JsonNode.Parse(await response.Content.ReadAsStringAsync())?["statusCode"]?.GetValue<int>());
        }

        var refusal = await denied.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(refusal.IsError);
        Assert.Contains("not on a Friday", Assert.IsType<TextContentBlock>(refusal.Content[0]).Text, StringComparison.Ordinal);
        await slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == second && OutcomeText(c).Contains("Denied", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await FinalPutAsync(connector, secondTeamsCard, "Denied");

        AssertNoSecretIn(slack);
        Assert.All(connector.Calls, c => Assert.DoesNotContain(GatewayHost.SampleApiKey, c.Body?.ToJsonString() ?? "", StringComparison.Ordinal));
        Assert.DoesNotContain(GatewayHost.SampleApiKey, bot.Output, StringComparison.Ordinal);
    }

    private IEnumerable<string> Common(string directory, string role, string policy) => _bus.Concat(
    [
        $"--ApprovalBot:Role={role}",
        $"--ApprovalBot:DataDirectory={Path.Combine(directory, role)}",
        $"--ApprovalBot:PolicyPath={policy}",
        $"--ApprovalBot:Console:AdminToken={GatewayHost.AdminToken}",
        $"--ApprovalBot:Gateway:Agents:test-agent:ApiKeySha256={AgentAuthentication.HashKey(GatewayHost.AgentKey)}",
        $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
        $"--ApprovalBot:Gateway:Upstreams:agentwork:Env:AGENTWORK_API_KEY={GatewayHost.SampleApiKey}",
        "--ApprovalBot:Gateway:HeartbeatInterval=00:00:01",
    ]);

    /// <summary>The PUT that replaced the card <paramref name="created"/> with one saying <paramref name="word"/>.</summary>
    private static Task<ConnectorCall> FinalPutAsync(FakeTeamsConnector connector, ConnectorCall created, string word)
    {
        var channel = created.Body?["channelData"]?["channel"]?["id"]?.GetValue<string>();
        return connector.WaitForCallAsync(c =>
            c.Kind == "update" && c.Succeeded
            && c.ConversationId == $"{channel};messageid={c.ActivityId}"
            && c.Card?.ToJsonString().Contains(word, StringComparison.Ordinal) == true, TimeSpan.FromSeconds(30));
    }
}
