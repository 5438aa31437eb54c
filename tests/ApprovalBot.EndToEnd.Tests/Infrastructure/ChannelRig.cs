using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Bot.Tests.Teams;
using ApprovalBot.Gateway.Identity;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>What a <see cref="ChannelRig"/> runs.</summary>
internal sealed record ChannelRigOptions
{
    /// <summary>The fake Slack, and the Slack channel pointed at it.</summary>
    public bool Slack { get; init; }

    /// <summary>The fake Bot Framework auth and Connector, and the Teams channel pointed at them.</summary>
    public bool Teams { get; init; }

    /// <summary>ApprovalBot:Teams:AppType; null leaves the default (SingleTenant).</summary>
    public string? TeamsAppType { get; init; }

    /// <summary>Runs on the fake Slack before anything starts (what it answers the first calls).</summary>
    public Action<FakeSlackApi>? BeforeStart { get; init; }

    public IEnumerable<string> Settings { get; init; } = [];

    /// <summary>The policy; null for <see cref="TestPolicies.Standard"/>.</summary>
    public string? Policy { get; init; }

    /// <summary>
    /// When set: the gateway and the bot as two processes of the real executable on this RabbitMQ
    /// node, as deployed. Otherwise the in-process host (role all, in-memory bus).
    /// </summary>
    public RabbitMqNode? SeparateProcessesOn { get; init; }
}

/// <summary>
/// The one rig of the Slack and Teams end-to-end tests: the channel fakes, the real ApprovalBot
/// pointed at them (in this process, or gateway and bot as two processes over RabbitMQ), an MCP
/// client of the test agent, and HTTP clients of the bot for the channels' webhooks and the console.
/// </summary>
internal sealed class ChannelRig : IAsyncDisposable
{
    public const string Tool = "agentwork_cancel_task";

    private readonly List<IAsyncDisposable> _owned;

    private ChannelRig(List<IAsyncDisposable> owned, FakeSlackApi? slack, FakeBotFrameworkAuth? auth, FakeTeamsConnector? connector, GatewayHost? host, Uri gateway, Uri bot, McpClient client)
    {
        _owned = owned;
        Slack = slack;
        Auth = auth;
        Connector = connector;
        Host = host;
        GatewayUrl = gateway;
        BotUrl = bot;
        Client = client;
        Http = new HttpClient { BaseAddress = bot };
        Console = new HttpClient { BaseAddress = bot };
        Console.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayHost.AdminToken);
    }

    public FakeSlackApi? Slack { get; }

    public FakeBotFrameworkAuth? Auth { get; }

    public FakeTeamsConnector? Connector { get; }

    /// <summary>The in-process host; null when gateway and bot run as separate processes.</summary>
    public GatewayHost? Host { get; }

    public Uri GatewayUrl { get; }

    public Uri BotUrl { get; }

    /// <summary>The test agent's MCP client, connected to the gateway.</summary>
    public McpClient Client { get; }

    /// <summary>Anonymous, to the bot, as Slack and Teams call it.</summary>
    public HttpClient Http { get; }

    /// <summary>The bot's console API with the admin token.</summary>
    public HttpClient Console { get; }

    public static IEnumerable<string> SlackSettings(FakeSlackApi slack) =>
    [
        "--ApprovalBot:Slack:Enabled=true",
        $"--ApprovalBot:Slack:BotToken={SlackEndToEndTests.BotToken}",
        $"--ApprovalBot:Slack:SigningSecret={SlackEndToEndTests.SigningSecret}",
        $"--ApprovalBot:Slack:Channel={SlackEndToEndTests.Channel}",
        $"--ApprovalBot:Slack:ApiBaseUrl={slack.ApiBaseUrl}",
    ];

    public static IEnumerable<string> TeamsSettings(FakeBotFrameworkAuth auth, FakeTeamsConnector connector, string? appType) =>
    [
        "--ApprovalBot:Teams:Enabled=true",
        $"--ApprovalBot:Teams:AppId={TeamsTestIds.AppId}",
        $"--ApprovalBot:Teams:AppPassword={TeamsTestIds.AppPassword}",
        $"--ApprovalBot:Teams:TenantId={TeamsTestIds.TenantId}",
        $"--ApprovalBot:Teams:ChannelId={TeamsTestIds.ChannelId}",
        $"--ApprovalBot:Teams:ServiceUrl={connector.ServiceUrl}",
        $"--ApprovalBot:Teams:OpenIdMetadataUrl={auth.MetadataUrl}",
        $"--ApprovalBot:Teams:TenantOpenIdMetadataUrl={auth.TenantMetadataUrlTemplate}",
        $"--ApprovalBot:Teams:TokenEndpoint={connector.TokenEndpoint}",
        .. appType is null ? Array.Empty<string>() : [$"--ApprovalBot:Teams:AppType={appType}"],
    ];

    public static async Task<ChannelRig> StartAsync(ChannelRigOptions options)
    {
        var owned = new List<IAsyncDisposable>();
        try
        {
            FakeSlackApi? slack = null;
            FakeBotFrameworkAuth? auth = null;
            FakeTeamsConnector? connector = null;
            var channels = new List<string>();
            if (options.Teams)
            {
                auth = await FakeBotFrameworkAuth.StartAsync();
                owned.Add(auth);
                connector = await FakeTeamsConnector.StartAsync(TeamsTestIds.AppId, TeamsTestIds.AppPassword);
                owned.Add(connector);
                _ = auth.Tenant(TeamsTestIds.TenantId); // the bot's own Entra tenant exists on the fake
                channels.AddRange(TeamsSettings(auth, connector, options.TeamsAppType));
            }

            if (options.Slack)
            {
                slack = await FakeSlackApi.StartAsync();
                slack.BotToken = SlackEndToEndTests.BotToken;
                owned.Add(slack);
                options.BeforeStart?.Invoke(slack);
                channels.AddRange(SlackSettings(slack));
            }

            if (options.SeparateProcessesOn is not { } rabbit)
            {
                var host = await GatewayHost.StartAsync(policy: options.Policy, withEverything: false, settings: [.. channels, .. options.Settings]);
                owned.Add(host);
                var inProcess = await host.ConnectAsync();
                return new ChannelRig(owned, slack, auth, connector, host, host.BaseUrl, host.BaseUrl, inProcess);
            }

            var directory = RepoPaths.NewTempDirectory();
            var policyPath = Path.Combine(directory, "policy.json");
            await File.WriteAllTextAsync(policyPath, options.Policy ?? TestPolicies.Standard);
            IEnumerable<string> Common(string role) => rabbit.Settings().Concat(
            [
                $"--ApprovalBot:Role={role}",
                $"--ApprovalBot:DataDirectory={Path.Combine(directory, role)}",
                $"--ApprovalBot:PolicyPath={policyPath}",
                $"--ApprovalBot:Console:AdminToken={GatewayHost.AdminToken}",
                $"--ApprovalBot:Gateway:Agents:test-agent:ApiKeySha256={AgentAuthentication.HashKey(GatewayHost.AgentKey)}",
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Env:AGENTWORK_API_KEY={GatewayHost.SampleApiKey}",
                "--ApprovalBot:Gateway:HeartbeatInterval=00:00:01",
                .. options.Settings,
            ]);
            var gateway = await AppProcess.StartAsync(Common("gateway").Append("--ApprovalBot:Gateway:InstanceId=gw-" + Guid.NewGuid().ToString("n")[..8]));
            owned.Add(gateway);
            var bot = await AppProcess.StartAsync(Common("bot").Concat(channels));
            owned.Add(bot);
            var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(gateway.BaseUrl, "/mcp"),
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + GatewayHost.AgentKey },
                TransportMode = HttpTransportMode.StreamableHttp,
            }));
            return new ChannelRig(owned, slack, auth, connector, null, gateway.BaseUrl, bot.BaseUrl, client);
        }
        catch
        {
            await DisposeAllAsync(owned);
            throw;
        }
    }

    public Task<CallToolResult> CallCancelTaskAsync(CancellationToken cancellationToken = default, string task = "T-100") =>
        Client.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = task, ["api_key"] = GatewayHost.SampleApiKey }, cancellationToken: cancellationToken).AsTask();

    /// <summary>The id of the pending approval of <paramref name="tool"/>, from the bot's console API.</summary>
    public async Task<Guid> WaitForPendingAsync(string tool = Tool) =>
        Guid.Parse((await ConsoleApi.WaitForPendingAsync(Console, tool)).GetProperty("id").GetString()!);

    /// <summary>Everything the sample's real api_key could have travelled in: bodies and headers of every call Slack got.</summary>
    public void AssertNoSecretReachedSlack()
    {
        var calls = Slack!.Calls;
        Assert.NotEmpty(calls);
        foreach (var call in calls)
        {
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Authorization ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Json?.ToJsonString() ?? "", StringComparison.Ordinal);
        }
    }

    /// <summary>The same for every Connector call and token request.</summary>
    public void AssertNoSecretReachedTeams()
    {
        Assert.NotEmpty(Connector!.Calls);
        foreach (var call in Connector.Calls)
        {
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Body?.ToJsonString() ?? "", StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.RawTarget, StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Authorization ?? "", StringComparison.Ordinal);
        }

        foreach (var token in Connector.TokenRequests)
        {
            Assert.DoesNotContain(token.Form.Values, v => v.Contains(GatewayHost.SampleApiKey, StringComparison.Ordinal));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.DisposeAsync();
        }
        finally
        {
            Http.Dispose();
            Console.Dispose();
            await DisposeAllAsync(_owned);
        }
    }

    private static async Task DisposeAllAsync(List<IAsyncDisposable> owned)
    {
        for (var i = owned.Count - 1; i >= 0; i--)
        {
            await owned[i].DisposeAsync();
        }
    }
}
