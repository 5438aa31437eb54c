using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ApprovalBot.Bot.Status;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>Issue 12.1 and 12.3: a hung upstream (SIGSTOP) and a dead one, with the real sample behind a wrapper script.</summary>
public sealed class UpstreamFailureTests
{
    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    private static JsonElement Agentwork(JsonElement readiness) =>
        readiness.GetProperty("upstreams").EnumerateArray().Single(u => u.GetProperty("name").GetString() == "agentwork");

    [Fact]
    public async Task Hung_upstream_times_calls_out_with_a_clear_error_and_is_shown_unresponsive()
    {
        var directory = RepoPaths.NewTempDirectory();
        var wrapper = await UpstreamProcesses.WriteWrapperAsync(directory, UpstreamProcesses.Sample);
        await using var host = await GatewayHost.StartAsync(
            withEverything: false,
            dataDirectory: directory,
            settings:
            [
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Command={wrapper.Script}",
                "--ApprovalBot:Gateway:Upstreams:agentwork:CallTimeout=00:00:02",
                "--ApprovalBot:Gateway:Upstreams:agentwork:PingInterval=00:00:01",
                "--ApprovalBot:Gateway:HeartbeatInterval=00:00:01",
            ]);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        await using var client = await host.ConnectAsync();
        Assert.Equal("pong", Text(await client.CallToolAsync("agentwork_ping")));
        var pid = await wrapper.LatestPidAsync();

        await UpstreamProcesses.SignalAsync(pid, "STOP");
        try
        {
            // The token only keeps a regression from hanging the run; the gateway's CallTimeout is what answers.
            using var hangGuard = new CancellationTokenSource(TimeSpan.FromSeconds(45));
            var result = await client.CallToolAsync("agentwork_ping", cancellationToken: hangGuard.Token);

            Assert.True(result.IsError);
            Assert.StartsWith("Upstream 'agentwork' did not answer tools/call within 2 s (Gateway:Upstreams:agentwork:CallTimeout)", Text(result));
            Assert.Equal("upstream_timeout", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
            Assert.Equal("agentwork", result.Meta?["approvalbot"]?["upstream"]?.GetValue<string>());

            var (status, readiness) = await Eventually.GetAsync(
                async () =>
                {
                    using var response = await http.GetAsync("/readyz");
                    return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
                },
                r => r.Item2.ValueKind == JsonValueKind.Object && !Agentwork(r.Item2).GetProperty("responsive").GetBoolean(),
                what: "readiness to show the upstream unresponsive");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            var upstream = Agentwork(readiness);
            Assert.Equal("unresponsive", upstream.GetProperty("state").GetString());
            Assert.StartsWith("unresponsive: no answer to ping within 1 s", upstream.GetProperty("error").GetString());

            // What /policy status shows: the heartbeat as the bot received it.
            var health = await Eventually.GetAsync(
                () => Task.FromResult(host.Get<HeartbeatTracker>().Snapshot().SelectMany(g => g.Heartbeat.Upstreams).LastOrDefault(u => u.Name == "agentwork")),
                u => u is { Connected: false },
                what: "the heartbeat to carry the unresponsive upstream");
            Assert.StartsWith("unresponsive", health.Error);
        }
        finally
        {
            await UpstreamProcesses.SignalAsync(pid, "CONT");
        }

        await Eventually.GetAsync(
            async () => Agentwork(await Readiness.GetAsync(http)).GetProperty("responsive").GetBoolean(),
            r => r,
            what: "the upstream to answer pings again");
        Assert.Equal("pong", Text(await client.CallToolAsync("agentwork_ping")));
    }

    [Fact]
    public async Task Timeouts_that_cannot_work_are_refused_at_start_up()
    {
        var directory = RepoPaths.NewTempDirectory();
        await using var app = await AppProcess.StartAsync(
            [
                $"--ApprovalBot:DataDirectory={directory}",
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
                "--ApprovalBot:Gateway:Upstreams:agentwork:CallTimeout=00:00:00",
                "--ApprovalBot:Gateway:Upstreams:agentwork:PingInterval=-00:00:01",
                "--ApprovalBot:Gateway:StartupWait=-00:00:01",
            ],
            waitForHealth: false);

        Assert.Equal(2, await app.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Contains("ApprovalBot:Gateway:Upstreams:agentwork:CallTimeout must be positive", app.Output);
        Assert.Contains("ApprovalBot:Gateway:Upstreams:agentwork:PingInterval must not be negative", app.Output);
        Assert.Contains("ApprovalBot:Gateway:StartupWait must not be negative", app.Output);
    }

    [Fact]
    public async Task Dead_upstream_keeps_its_last_known_tools_which_answer_unavailable_while_hidden_ones_stay_unknown()
    {
        var directory = RepoPaths.NewTempDirectory();
        // Once crashed, the upstream stays down: every relaunch fails.
        var wrapper = await UpstreamProcesses.WriteWrapperAsync(directory, UpstreamProcesses.Sample, "echo 'agentwork backend offline' >&2; exit 3");
        var policy = TestPolicies.Standard.Replace("\"hide\": [\"everything_get-env\"]", "\"hide\": [\"agentwork_delete_inventory\"]", StringComparison.Ordinal);
        await using var host = await GatewayHost.StartAsync(
            policy: policy,
            withEverything: false,
            dataDirectory: directory,
            settings: [$"--ApprovalBot:Gateway:Upstreams:agentwork:Command={wrapper.Script}"]);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        await using var client = await host.ConnectAsync();
        Assert.Equal("pong", Text(await client.CallToolAsync("agentwork_ping")));

        await UpstreamProcesses.SignalAsync(await wrapper.LatestPidAsync(), "KILL");
        await Eventually.GetAsync(
            async () => Agentwork(await Readiness.GetAsync(http)).GetProperty("connected").GetBoolean(),
            connected => !connected,
            what: "the upstream to be down");

        var names = (await client.ListToolsAsync()).Select(t => t.Name).ToList();
        var result = await client.CallToolAsync("agentwork_ping");
        var hidden = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("agentwork_delete_inventory").AsTask());
        var unknown = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("agentwork_no_such_tool").AsTask());

        Assert.Equal("unavailable", Agentwork(await Readiness.GetAsync(http)).GetProperty("state").GetString());
        Assert.Contains("agentwork_ping", names);
        Assert.Contains("agentwork_list_tasks", names);
        Assert.DoesNotContain("agentwork_delete_inventory", names);
        Assert.True(result.IsError);
        Assert.Matches(@"^Upstream 'agentwork' is unavailable \(.+\); try again later\.$", Text(result));
        Assert.Equal("upstream_unavailable", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        Assert.Equal("agentwork", result.Meta?["approvalbot"]?["upstream"]?.GetValue<string>());
        Assert.Equal(unknown.ErrorCode, hidden.ErrorCode);
        Assert.Equal(unknown.Message.Replace("agentwork_no_such_tool", "X", StringComparison.Ordinal), hidden.Message.Replace("agentwork_delete_inventory", "X", StringComparison.Ordinal));
    }
}
