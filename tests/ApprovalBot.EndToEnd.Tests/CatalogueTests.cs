using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Front;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Issue 20: a client that lists tools the instant it connects sees every upstream's tools, on both
/// fronts, and open sessions hear every change (tools/list_changed) without reconnecting. Issue 12.7:
/// two upstreams exposing one name.
/// </summary>
public sealed class CatalogueTests
{
    private const string AllowAll = """{ "version": "1", "default": "allow", "rules": {} }""";

    /// <summary>Every tool of the sample upstream, as the gateway exposes it under the default prefix.</summary>
    private static readonly string[] SampleTools =
        ["agentwork_list_tasks", "agentwork_cancel_task", "agentwork_list_jobs", "agentwork_cancel_job", "agentwork_delete_inventory", "agentwork_ping"];

    private static List<string> Names(JsonNode? listResult) =>
        listResult!["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList();

    private static async Task<List<string>> ToolNamesAsync(McpClient client) =>
        (await client.ListToolsAsync()).Select(t => t.Name).ToList();

    /// <summary>Until the gateway has announced everything it knows, a new session could still hear an older announcement.</summary>
    private static Task WhenAnnouncementsSettledAsync(GatewayHost host)
    {
        var announcer = host.Get<CatalogAnnouncer>();
        return Eventually.GetAsync<bool?>(() => Task.FromResult<bool?>(announcer.Announced == announcer.Current()), s => s == true, what: "the catalogue announcements to settle");
    }

    [Fact]
    public async Task Stdio_front_launched_by_a_typescript_client_lists_every_tool_at_once_and_a_first_call_succeeds()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policy, TestPolicies.Standard);

        // Steps run back to back from the moment initialize returns, as Claude Desktop or Cursor do.
        var report = await NodeMcpClient.RunStdioAsync(
            "dotnet",
            [
                RepoPaths.ApprovalBotDll, "stdio",
                $"--ApprovalBot:PolicyPath={policy}", $"--ApprovalBot:DataDirectory={directory}",
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
                "--ApprovalBot:Gateway:Upstreams:everything:Command=node",
                $"--ApprovalBot:Gateway:Upstreams:everything:Args:0={RepoPaths.EverythingServer}",
                "--ApprovalBot:Gateway:Upstreams:everything:Args:1=stdio",
                "--urls=http://127.0.0.1:0",
            ],
            directory,
            new object[]
            {
                new { op = "listTools" },
                new { op = "callTool", name = "agentwork_list_jobs" },
                new { op = "callTool", name = "everything_echo", args = new { message = "first call over stdio" } },
                new { op = "listTools" },
            });

        Assert.True(report["connectError"] is null, report.ToJsonString());
        var results = report["results"]!.AsArray();
        var first = Names(results[0]);
        var later = Names(results[3]);
        Assert.All(SampleTools, t => Assert.Contains(t, first));
        Assert.Contains("everything_echo", first);
        Assert.Contains("everything_get-sum", first);
        // Registered by server-everything only after its handshake (it then sends list_changed).
        Assert.Contains("everything_trigger-sampling-request", first);
        Assert.DoesNotContain("everything_get-env", first);
        Assert.Equal(later.Order(StringComparer.Ordinal), first.Order(StringComparer.Ordinal));
        Assert.Contains("deploy-web", results[1]!["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Contains("first call over stdio", results[2]!["result"]!["content"]![0]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Http_client_connecting_the_moment_the_front_answers_sees_every_tool_and_its_first_call_works()
    {
        await using var host = await GatewayHost.StartAsync(waitForUpstreams: false);

        // A call before any list, to a tool of an upstream that may still be connecting.
        var calling = Task.Run(async () =>
        {
            await using var caller = await host.ConnectAsync();
            return await caller.CallToolAsync("agentwork_list_jobs");
        });
        await using var client = await host.ConnectAsync();
        var first = await ToolNamesAsync(client);
        var call = await calling;

        await host.Get<Gateway.Upstreams.UpstreamRegistry>().WhenFirstAttemptsDoneAsync(CancellationToken.None);
        var later = await ToolNamesAsync(client);
        Assert.All(SampleTools, t => Assert.Contains(t, first));
        Assert.Contains("everything_echo", first);
        Assert.Contains("everything_trigger-sampling-request", first);
        Assert.Equal(later.Order(StringComparer.Ordinal), first.Order(StringComparer.Ordinal));
        Assert.NotEqual(true, call.IsError);
        Assert.Contains("deploy-web", Assert.IsType<TextContentBlock>(call.Content[0]).Text);
    }

    [Fact]
    public async Task Upstream_connecting_after_the_gateway_is_announced_to_open_sessions()
    {
        var port = AppProcess.FreePort();
        await using var host = await GatewayHost.StartAsync(
            policy: AllowAll,
            withEverything: false,
            settings: [$"--ApprovalBot:Gateway:Upstreams:late:Url={EverythingHttpServer.UrlFor(port)}"]);
        await WhenAnnouncementsSettledAsync(host);
        await using var client = await host.ConnectAsync();
        var heard = NotificationCounter.Attach(client, NotificationMethods.ToolListChangedNotification, NotificationMethods.PromptListChangedNotification);
        var before = await ToolNamesAsync(client);
        Assert.Contains("agentwork_ping", before);
        Assert.DoesNotContain(before, n => n.StartsWith("late_", StringComparison.Ordinal));

        await using var late = await EverythingHttpServer.StartAsync(port);

        await heard.WaitForMoreThanAsync(NotificationMethods.ToolListChangedNotification, 0);
        var after = await ToolNamesAsync(client);
        Assert.Contains("late_echo", after);
        Assert.Contains("agentwork_ping", after);
        await heard.WaitForMoreThanAsync(NotificationMethods.PromptListChangedNotification, 0);
        Assert.Contains("late_simple-prompt", (await client.ListPromptsAsync()).Select(p => p.Name));
    }

    [Fact]
    public async Task Upstream_restarting_with_another_tool_list_is_announced_and_the_next_list_shows_it()
    {
        var directory = RepoPaths.NewTempDirectory();
        // The first launch is the sample; the relaunch after its crash is server-everything: another tool list.
        var wrapper = await UpstreamProcesses.WriteWrapperAsync(directory, UpstreamProcesses.Sample, UpstreamProcesses.EverythingStdio);
        await using var host = await GatewayHost.StartAsync(
            policy: AllowAll,
            withEverything: false,
            dataDirectory: directory,
            settings: [$"--ApprovalBot:Gateway:Upstreams:agentwork:Command={wrapper.Script}"]);
        await WhenAnnouncementsSettledAsync(host);
        await using var client = await host.ConnectAsync();
        var heard = NotificationCounter.Attach(client, NotificationMethods.ToolListChangedNotification);
        Assert.Contains("agentwork_list_tasks", await ToolNamesAsync(client));

        await UpstreamProcesses.SignalAsync(await wrapper.LatestPidAsync(), "KILL");

        await heard.WaitForMoreThanAsync(NotificationMethods.ToolListChangedNotification, 0);
        var after = await ToolNamesAsync(client);
        Assert.Contains("agentwork_echo", after);
        Assert.DoesNotContain("agentwork_list_tasks", after);
    }

    [Fact]
    public async Task Policy_reload_hiding_a_tool_is_announced_and_the_tool_disappears()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false);
        await WhenAnnouncementsSettledAsync(host);
        await using var client = await host.ConnectAsync();
        var heard = NotificationCounter.Attach(client, NotificationMethods.ToolListChangedNotification);
        Assert.Contains("agentwork_ping", await ToolNamesAsync(client));

        await File.WriteAllTextAsync(host.PolicyPath, TestPolicies.Standard.Replace("\"hide\": [\"everything_get-env\"]", "\"hide\": [\"everything_get-env\", \"agentwork_ping\"]", StringComparison.Ordinal));

        await heard.WaitForMoreThanAsync(NotificationMethods.ToolListChangedNotification, 0);
        Assert.DoesNotContain("agentwork_ping", await ToolNamesAsync(client));
        var hidden = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("agentwork_ping").AsTask());
        Assert.Contains("Unknown tool", hidden.Message);
    }

    [Fact]
    public async Task Two_upstreams_exposing_one_tool_name_refuse_start_up_with_exit_2_naming_both_and_the_tool()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policy, AllowAll);
        await using var app = await AppProcess.StartAsync(
            [
                $"--ApprovalBot:DataDirectory={directory}",
                $"--ApprovalBot:PolicyPath={policy}",
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
                "--ApprovalBot:Gateway:Upstreams:twin:Command=dotnet",
                $"--ApprovalBot:Gateway:Upstreams:twin:Args:0={RepoPaths.SampleDll}",
                "--ApprovalBot:Gateway:Upstreams:twin:Prefix=agentwork_",
            ],
            waitForHealth: false);

        var exit = await app.WaitForExitAsync(TimeSpan.FromSeconds(90));

        // The whole output on failure: exit 2 has other causes too (e.g. another process took the port).
        Assert.True(exit == 2 && System.Text.RegularExpressions.Regex.IsMatch(app.Output, "Upstreams 'agentwork' and 'twin' both expose tool 'agentwork_[a-z_]+'"), $"exit {exit}:\n{app.Output}");
    }

    [Fact]
    public async Task Name_collision_appearing_at_run_time_keeps_the_earlier_tool_logs_an_error_and_shows_in_readyz()
    {
        var port = AppProcess.FreePort();
        var logs = new CapturingLoggerProvider();
        // "aaa" sorts before "everything": whoever merely comes first by name would take the tools over.
        await using var host = await GatewayHost.StartAsync(
            policy: AllowAll,
            settings:
            [
                "--ApprovalBot:Gateway:Upstreams:everything:Env:WHICH_EVERYTHING=the-stdio-one",
                $"--ApprovalBot:Gateway:Upstreams:aaa:Url={EverythingHttpServer.UrlFor(port)}",
                "--ApprovalBot:Gateway:Upstreams:aaa:Prefix=everything_",
            ],
            customize: b => b.Logging.AddProvider(logs));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        await using var late = await EverythingHttpServer.StartAsync(port, new Dictionary<string, string> { ["WHICH_EVERYTHING"] = "the-http-one" });

        var readiness = await Eventually.GetAsync(
            async () => await Readiness.GetAsync(http),
            r => r.GetProperty("catalogue").GetProperty("collisions").GetArrayLength() > 0,
            what: "the collision to show in /readyz");
        var echo = readiness.GetProperty("catalogue").GetProperty("collisions").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "everything_echo");
        Assert.Equal("everything", echo.GetProperty("kept").GetString());
        Assert.Equal("aaa", echo.GetProperty("refused").GetString());
        Assert.Equal("Upstreams 'everything' and 'aaa' both expose tool 'everything_echo'", echo.GetProperty("message").GetString());
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("[UpstreamNameCollision]", StringComparison.Ordinal) && l.Contains("'aaa'", StringComparison.Ordinal));

        await using var client = await host.ConnectAsync();
        var env = await client.CallToolAsync("everything_get-env");
        var text = Assert.IsType<TextContentBlock>(env.Content[0]).Text;
        Assert.Contains("the-stdio-one", text);
        Assert.DoesNotContain("the-http-one", text);
    }
}
