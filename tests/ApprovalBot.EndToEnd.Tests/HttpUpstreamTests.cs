using System.Diagnostics;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>An upstream reached over Streamable HTTP (server-everything in its HTTP mode), with no prefix.</summary>
public sealed class HttpUpstreamTests
{
    [Fact]
    public async Task Streamable_http_upstream_without_prefix_is_proxied()
    {
        var port = AppProcess.FreePort();
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.NodeTools };
        start.ArgumentList.Add(RepoPaths.EverythingServer);
        start.ArgumentList.Add("streamableHttp");
        start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var upstream = Process.Start(start)!;
        upstream.BeginOutputReadLine();
        upstream.BeginErrorReadLine();
        try
        {
            using (var probe = new HttpClient())
            {
                await Eventually.GetAsync<bool?>(
                    async () =>
                    {
                        try
                        {
                            await probe.GetAsync($"http://127.0.0.1:{port}/mcp");
                            return true;
                        }
                        catch (HttpRequestException)
                        {
                            return false;
                        }
                    },
                    ok => ok == true,
                    what: "server-everything to listen");
            }

            const string policy = """{ "version": "1", "default": "deny", "rules": { "echo": { "action": "allow" }, "get-sum": { "action": "allow" } } }""";
            await using var host = await GatewayHost.StartAsync(
                policy: policy,
                withEverything: false,
                settings:
                [
                    "--ApprovalBot:Gateway:Upstreams:agentwork:Enabled=false",
                    $"--ApprovalBot:Gateway:Upstreams:remote:Url=http://127.0.0.1:{port}/mcp",
                    "--ApprovalBot:Gateway:Upstreams:remote:Prefix=",
                    "--ApprovalBot:Gateway:Upstreams:remote:Headers:X-Trace=approvalbot-test",
                ]);
            await using var client = await host.ConnectAsync();

            var names = (await client.ListToolsAsync()).Select(t => t.Name).ToList();
            var echo = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "over http" });
            var denied = await client.CallToolAsync("get-tiny-image");

            Assert.Contains("echo", names);
            Assert.DoesNotContain(names, n => n.StartsWith("agentwork_", StringComparison.Ordinal));
            Assert.Contains("over http", Assert.IsType<TextContentBlock>(echo.Content[0]).Text);
            Assert.True(denied.IsError);
        }
        finally
        {
            upstream.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Configured_headers_reach_the_http_upstream_on_every_request_and_the_agents_key_does_not()
    {
        await using var upstream = await ApprovalBot.Tests.Upstreams.InProcessUpstream.StartAsync("remote-server", "echo");
        const string policy = """{ "version": "1", "default": "deny", "rules": { "remote_echo": { "action": "allow" } } }""";
        await using var host = await GatewayHost.StartAsync(
            policy: policy,
            withEverything: false,
            settings:
            [
                "--ApprovalBot:Gateway:Upstreams:agentwork:Enabled=false",
                $"--ApprovalBot:Gateway:Upstreams:remote:Url={upstream.Url}",
                "--ApprovalBot:Gateway:Upstreams:remote:Headers:X-Trace=approvalbot-test",
                "--ApprovalBot:Gateway:Upstreams:remote:Headers:Authorization=Bearer upstream-service-token",
            ]);
        await using var client = await host.ConnectAsync();

        var echo = await client.CallToolAsync("remote_echo", new Dictionary<string, object?> { ["message"] = "traced" });

        Assert.Equal("""echo: {"message":"traced"}""", Assert.IsType<TextContentBlock>(echo.Content[0]).Text);
        var requests = upstream.RequestHeaders.ToList();
        Assert.True(requests.Count >= 3, $"only {requests.Count} requests"); // initialize, initialized, tools/list, tools/call, …
        Assert.All(requests, headers =>
        {
            Assert.Equal("approvalbot-test", headers.GetValueOrDefault("X-Trace"));
            Assert.Equal("Bearer upstream-service-token", headers.GetValueOrDefault("Authorization"));
        });
        // The agent authenticates to the gateway; its key is the gateway's business, never the upstream's.
        Assert.DoesNotContain(requests, headers => headers.Values.Any(v => v.Contains(GatewayHost.AgentKey, StringComparison.Ordinal)));
        Assert.Equal("echo", Assert.Single(upstream.Calls).Tool);
    }
}
