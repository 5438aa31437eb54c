using System.Text;
using System.Text.Json.Nodes;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Upstreams;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// With policy allow, a client cannot tell the gateway from its upstream: the official MCP
/// conformance suite (every server scenario) passes through the gateway wherever it passes against
/// the upstream directly. The suite runs several times per set-up, so that a race (a notification
/// overtaken by its request's answer) shows.
/// </summary>
public sealed class ConformanceTests(ConformanceTests.Baseline baseline) : IClassFixture<ConformanceTests.Baseline>
{
    private const int Runs = 3;
    private const string AllowAll = """{ "version": "1", "default": "allow" }""";

    /// <summary>The conformance server over HTTP, and the suite's results against it directly.</summary>
    public sealed class Baseline : IAsyncLifetime
    {
        public ConformanceServer Server { get; private set; } = null!;

        public SuiteRun Direct { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = await ConformanceSuite.StartServerAsync();
            Direct = await ConformanceSuite.RunAsync(Server.Url);
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    [Fact]
    public void The_server_behind_the_gateway_passes_every_scenario_directly()
    {
        // 32 server scenarios in 0.1.16; a run that found fewer did not run the suite properly.
        Assert.True(baseline.Direct.Scenarios.Count >= 32, Table(("direct", baseline.Direct)));
        Assert.All(baseline.Direct.Scenarios.Values, s => Assert.True(s.Passed, $"{s.Name}: {string.Join("; ", s.Failures)}"));
    }

    [Fact]
    public async Task Http_upstream_through_the_http_front()
    {
        await using var host = await StartGatewayAsync([$"--ApprovalBot:Gateway:Upstreams:conf:Url={baseline.Server.Url}"]);

        await AssertTransparentAsync(host.McpUrl, "http upstream");
    }

    [Fact]
    public async Task Stdio_upstream_through_the_http_front()
    {
        await using var host = await StartGatewayAsync(
        [
            "--ApprovalBot:Gateway:Upstreams:conf:Command=node",
            $"--ApprovalBot:Gateway:Upstreams:conf:Args:0={ConformanceSuite.ServerScript}",
            "--ApprovalBot:Gateway:Upstreams:conf:Args:1=stdio",
            $"--ApprovalBot:Gateway:Upstreams:conf:WorkingDirectory={ConformanceSuite.Directory}",
        ]);

        await AssertTransparentAsync(host.McpUrl, "stdio upstream");
    }

    /// <summary>
    /// The suite only speaks HTTP, so it reaches the stdio front through a second gateway: suite →
    /// gateway (HTTP front) → <c>approvalbot stdio</c> (stdio front) → the conformance server.
    /// </summary>
    [Fact]
    public async Task Http_upstream_through_the_stdio_front()
    {
        await using var host = await StartGatewayAsync(
            StdioGatewayArgs("inner").Prepend("--ApprovalBot:Gateway:Upstreams:inner:Command=dotnet").ToArray(),
            upstreamName: "inner");

        await AssertTransparentAsync(host.McpUrl, "stdio front");
    }

    /// <summary>
    /// A 2026-07-28 client (the C# SDK's default) on the stdio front puts its protocol version in every
    /// request's _meta; forwarded, it made the gateway's HTTP client call the upstream without its session.
    /// </summary>
    [Fact]
    public async Task A_2026_07_28_client_on_the_stdio_front_reaches_an_http_upstream()
    {
        var args = StdioGatewayArgs(upstream: null).ToList();
        var transport = new StdioClientTransport(new StdioClientTransportOptions { Command = "dotnet", Arguments = args, WorkingDirectory = RepoPaths.NewTempDirectory() });
        await using var client = await McpClient.CreateAsync(transport);

        await Eventually.GetAsync(async () => (await client.ListToolsAsync()).Count, n => n > 0, what: "the stdio gateway's catalogue");
        var text = await client.CallToolAsync("test_simple_text");
        var resource = await client.ReadResourceAsync("test://static-text");
        var prompt = await client.GetPromptAsync("test_prompt_with_arguments", new Dictionary<string, object?> { ["arg1"] = "hello", ["arg2"] = "world" });

        Assert.Equal("This is a simple text response for testing.", Assert.IsType<TextContentBlock>(text.Content[0]).Text);
        Assert.Equal("This is the content of the static text resource.", Assert.IsType<TextResourceContents>(resource.Contents[0]).Text);
        Assert.Equal("Prompt with arguments: arg1='hello', arg2='world'", Assert.IsType<TextContentBlock>(prompt.Messages[0].Content).Text);
    }

    /// <summary>
    /// A call held for approval and then released: its own waiting progress, then the upstream's
    /// progress and log messages, all before its answer and in the upstream's order.
    /// </summary>
    [Fact]
    public async Task Held_then_released_call_gets_its_notifications_before_its_answer_in_order()
    {
        const string policy = """
            {
              "version": "1",
              "default": "allow",
              "rules": {
                "test_tool_with_progress": { "action": "require_approval" },
                "test_tool_with_logging": { "action": "require_approval" }
              }
            }
            """;
        await using var host = await StartGatewayAsync([$"--ApprovalBot:Gateway:Upstreams:conf:Url={baseline.Server.Url}"], policy: policy, anonymous: false);
        using var console = host.ConsoleClient();

        for (var run = 0; run < 2; run++)
        {
            var client = NodeMcpClient.RunAsync(
                host.McpUrl,
                new object[]
                {
                    new { op = "setLoggingLevel", level = "debug" },
                    new { op = "callTool", name = "test_tool_with_progress", progress = true },
                    new { op = "callTool", name = "test_tool_with_logging" },
                },
                GatewayHost.AgentKey);
            foreach (var tool in new[] { "test_tool_with_progress", "test_tool_with_logging" })
            {
                var pending = await ConsoleApi.WaitForPendingAsync(console, tool);
                await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
            }

            var events = (await client)["events"]!.AsArray().Select(e => e!.AsObject()).ToList();
            var trace = string.Join(" | ", events.Select(e => e.ToJsonString()));

            var progressAnswer = events.FindIndex(e => Is(e, "result") && e["name"]!.GetValue<string>() == "test_tool_with_progress");
            var beforeAnswer = events.Take(progressAnswer).Where(e => Is(e, "progress")).ToList();
            var waiting = beforeAnswer.TakeWhile(e => e["message"]?.GetValue<string>().StartsWith("waiting for approval", StringComparison.Ordinal) == true).Count();
            Assert.True(waiting >= 1, trace);
            // The upstream's 0, 50, 100 of 100 continue after the gateway's own waiting steps 1…n on the same token
            // (progress must only increase): n+1, n+51, n+101 of n+101.
            Assert.Equal(
                new[] { 0, 50, 100 }.Select(p => $"{p + waiting + 1}/{100 + waiting + 1}"),
                beforeAnswer.Skip(waiting).Select(e => $"{e["progress"]}/{e["total"]}"));
            var values = beforeAnswer.Select(e => e["progress"]!.GetValue<double>()).ToList();
            Assert.True(values.Zip(values.Skip(1)).All(pair => pair.Second > pair.First), trace);

            var logAnswer = events.FindIndex(e => Is(e, "result") && e["name"]!.GetValue<string>() == "test_tool_with_logging");
            Assert.Equal(
                new[] { "Tool execution started", "Tool processing data", "Tool execution completed" },
                events.Skip(progressAnswer + 1).Take(logAnswer - progressAnswer - 1).Where(e => Is(e, "log")).Select(e => e["data"]!.ToString()));
            Assert.True(logAnswer > progressAnswer, trace);
        }
    }

    private static bool Is(JsonObject e, string type) => e["type"]!.GetValue<string>() == type;

    private async Task AssertTransparentAsync(Uri url, string through)
    {
        var runs = new List<(string, SuiteRun)> { ("direct", baseline.Direct) };
        for (var run = 1; run <= Runs; run++)
        {
            runs.Add(($"{through} #{run}", await ConformanceSuite.RunAsync(url)));
        }

        var regressions = runs.Skip(1).SelectMany(r => r.Item2.Regressions(baseline.Direct).Select(x => $"{r.Item1}: {x}")).ToList();
        Assert.True(regressions.Count == 0, string.Join(Environment.NewLine, regressions) + Environment.NewLine + Table(runs.ToArray()));
    }

    private static string Table(params (string Name, SuiteRun Run)[] runs)
    {
        var text = new StringBuilder("scenario | " + string.Join(" | ", runs.Select(r => r.Name)) + Environment.NewLine);
        foreach (var scenario in runs.SelectMany(r => r.Run.Scenarios.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            text.AppendLine(scenario + " | " + string.Join(" | ", runs.Select(r => r.Run.Scenarios.TryGetValue(scenario, out var s) ? (s.Passed ? "pass" : "FAIL") : "-")));
        }

        return text.ToString();
    }

    /// <summary>An allow-all gateway, no prefix, in front of the conformance server only.</summary>
    private static async Task<GatewayHost> StartGatewayAsync(string[] upstream, string policy = AllowAll, bool anonymous = true, string upstreamName = "conf")
    {
        var host = await GatewayHost.StartAsync(
            policy: policy,
            withEverything: false,
            anonymous: anonymous,
            settings: [.. upstream, "--ApprovalBot:Gateway:Upstreams:agentwork:Enabled=false", $"--ApprovalBot:Gateway:Upstreams:{upstreamName}:Prefix="]);
        // An upstream that is itself a gateway may list its tools only once its own upstream is up.
        await Eventually.GetAsync(() => Task.FromResult<bool?>(host.Get<UpstreamRegistry>().Catalog.ToolsByName.ContainsKey("test_simple_text")), ok => ok == true, what: "the conformance tools in the catalogue");
        return host;
    }

    /// <summary>
    /// <c>approvalbot stdio</c>, allow-all, in front of the conformance server over HTTP; as the
    /// arguments of <paramref name="upstream"/> of an outer gateway, or (null) of <c>dotnet</c>.
    /// </summary>
    private IEnumerable<string> StdioGatewayArgs(string? upstream)
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        File.WriteAllText(policy, AllowAll);
        string[] args =
        [
            RepoPaths.ApprovalBotDll, "stdio",
            "--urls=http://127.0.0.1:0",
            $"--ApprovalBot:DataDirectory={directory}",
            $"--ApprovalBot:PolicyPath={policy}",
            "--ApprovalBot:Gateway:Upstreams:agentwork:Enabled=false",
            $"--ApprovalBot:Gateway:Upstreams:conf:Url={baseline.Server.Url}",
            "--ApprovalBot:Gateway:Upstreams:conf:Prefix=",
        ];
        return upstream is null ? args : args.Select((arg, i) => $"--ApprovalBot:Gateway:Upstreams:{upstream}:Args:{i}={arg}");
    }
}
