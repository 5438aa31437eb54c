using System.Text;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench.Scenarios;

public sealed record OverheadResult(string Description, IReadOnlyList<string> Targets, IReadOnlyList<LoadRun> Runs);

/// <summary>
/// Scenario 1: the same tools/call through no proxy, ApprovalBot and the npm peers.
/// <list type="bullet">
/// <item><c>echo</c>: server-everything. Over HTTP: direct (its own Streamable HTTP mode),
/// <c>approvalbot</c> and <c>civic-passthrough</c> with that same instance as upstream. Over stdio:
/// <c>mcp-proxy</c> (it only fronts stdio servers) and <c>approvalbot-stdio</c>, each spawning its own child.</item>
/// <item><c>ping</c>: the sample's cheapest tool, the same way, with this program serving the sample's
/// tools over HTTP as the upstream (and the sample itself over stdio).</item>
/// </list>
/// ApprovalBot runs its shipped configuration (role all, in-memory bus, Information logging to a
/// file) with a 50-rule policy whose matching rule allows the call.
/// </summary>
public sealed class OverheadScenario(BenchContext context, IReadOnlySet<string>? only = null)
{
    public const string EchoArguments = """{"message":"hello"}""";

    public async Task<OverheadResult> RunAsync()
    {
        var runs = new List<LoadRun>();
        await using var everything = await Measure("upstream server-everything (HTTP)", () => Targets.StartEverythingHttpAsync(context));
        await using var upstream = await Measure("upstream sample tools (HTTP)", () => Targets.StartBenchUpstreamAsync(context));
        var everythingUrl = everything.Url;
        var upstreamUrl = upstream.Url;

        await RunTargetAsync(runs, "direct", [("echo", everythingUrl), ("ping", upstreamUrl)], null);

        await RunTargetAsync(runs, "approvalbot", null, async () =>
        {
            var (process, baseUrl) = await Targets.StartApprovalBotAsync(context, "approvalbot-http", FiftyRulePolicy(),
            [
                "--ApprovalBot:Gateway:AllowAnonymous=true",
                "--ApprovalBot:Gateway:Upstreams:agentwork:Enabled=false",
                $"--ApprovalBot:Gateway:Upstreams:everything:Url={everythingUrl}",
                "--ApprovalBot:Gateway:Upstreams:everything:Prefix=",
                $"--ApprovalBot:Gateway:Upstreams:sample:Url={upstreamUrl}",
                "--ApprovalBot:Gateway:Upstreams:sample:Prefix=",
            ]);
            var mcp = new Uri(baseUrl, "/mcp");
            return ([process], [("echo", mcp), ("ping", mcp)]);
        });

        await RunTargetAsync(runs, "civic-passthrough", null, async () =>
        {
            var echo = await Targets.StartCivicAsync(context, "civic-echo", everythingUrl);
            var ping = await Targets.StartCivicAsync(context, "civic-ping", upstreamUrl);
            return ([echo.Process, ping.Process], [("echo", echo.McpUrl), ("ping", ping.McpUrl)]);
        });

        await RunTargetAsync(runs, "approvalbot-stdio", null, async () =>
        {
            var (process, baseUrl) = await Targets.StartApprovalBotAsync(context, "approvalbot-stdio", FiftyRulePolicy(),
            [
                "--ApprovalBot:Gateway:AllowAnonymous=true",
                "--ApprovalBot:Gateway:Upstreams:agentwork:Prefix=",
                "--ApprovalBot:Gateway:Upstreams:everything:Command=node",
                $"--ApprovalBot:Gateway:Upstreams:everything:Args:0={BenchPaths.EverythingServer}",
                "--ApprovalBot:Gateway:Upstreams:everything:Args:1=stdio",
                "--ApprovalBot:Gateway:Upstreams:everything:Prefix=",
            ]);
            var mcp = new Uri(baseUrl, "/mcp");
            return ([process], [("echo", mcp), ("ping", mcp)]);
        });

        await RunTargetAsync(runs, "mcp-proxy", null, async () =>
        {
            var echo = await Targets.StartMcpProxyAsync(context, "mcp-proxy-echo", "node", BenchPaths.EverythingServer, "stdio");
            var ping = await Targets.StartMcpProxyAsync(context, "mcp-proxy-ping", "dotnet", BenchPaths.SampleDll);
            return ([echo.Process, ping.Process], [("echo", echo.McpUrl), ("ping", ping.McpUrl)]);
        });

        var result = new OverheadResult(
            "tools/call latency (ms) and throughput through each target; same client, same upstream program, same machine",
            runs.Select(r => r.Target).Distinct().ToList(),
            runs);
        await context.WriteResultAsync("overhead", result);
        return result;
    }

    private async Task<Started> Measure(string what, Func<Task<(ChildProcess Process, Uri McpUrl)>> start)
    {
        context.Log("starting " + what);
        var (process, url) = await start();
        return new Started(process, url);
    }

    private async Task RunTargetAsync(
        List<LoadRun> runs, string target, IReadOnlyList<(string Tool, Uri Url)>? fixedUrls,
        Func<Task<(ChildProcess[] Processes, IReadOnlyList<(string Tool, Uri Url)> Urls)>>? start)
    {
        ChildProcess[] processes = [];
        if (only is not null && !only.Contains(target))
        {
            return;
        }

        try
        {
            context.Log($"overhead: {target}");
            IReadOnlyList<(string Tool, Uri Url)> urls;
            if (start is not null)
            {
                (processes, urls) = await start();
            }
            else
            {
                urls = fixedUrls!;
            }

            foreach (var (tool, url) in urls)
            {
                var (args, expect) = tool == "echo" ? (EchoArguments, "Echo: hello") : ("{}", "pong");
                foreach (var concurrency in new[] { 1, 64 })
                {
                    var run = await LoadRunner.RunAsync(
                        context.Http, target, url, tool, args, expect, concurrency,
                        warmupCalls: context.Smoke ? 5 : 300,
                        measuredCalls: context.Smoke ? 30 : 2000,
                        warmup: TimeSpan.FromSeconds(context.Smoke ? 0.3 : 1.5),
                        duration: TimeSpan.FromSeconds(context.Smoke ? 0.7 : 5));
                    runs.Add(run);
                    context.Log($"  {tool,-5} c={concurrency,-3} p50 {run.Latency.P50,7:F3} ms  p99 {run.Latency.P99,7:F3} ms  {run.CallsPerSecond,8:F0} calls/s  errors {run.Errors}");
                    if (run.Errors > 0)
                    {
                        context.Fail($"overhead {target} {tool} c={concurrency}: {run.Errors} errors, first: {run.FirstError}");
                    }
                }
            }
        }
        catch (Exception e) when (e is McpCallException or HttpRequestException or InvalidOperationException or IOException)
        {
            context.Fail($"overhead {target}: {e.Message}");
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>50 rules: 16 exact names, 16 globs, 16 with <c>when</c> conditions, then the two measured tools, allowed by exact name.</summary>
    public static string FiftyRulePolicy()
    {
        var rules = new StringBuilder();
        for (var i = 0; i < 16; i++)
        {
            rules.Append($$"""    "tool_{{i}}": { "action": "{{(i % 3 == 0 ? "deny" : "allow")}}" },""").Append('\n');
            rules.Append($$"""    "svc{{i}}_*": { "action": "allow" },""").Append('\n');
            rules.Append($$"""    "ops{{i}}_*": { "action": "require_approval", "reason": "production", "when": { "args.environment": { "in": ["prod", "production"] } } },""").Append('\n');
        }

        return $$"""
            {
              "version": "1",
              "default": "deny",
              "rules": {
            {{rules}}    "echo": { "action": "allow" },
                "ping": { "action": "allow" }
              }
            }
            """;
    }

    private sealed record Started(ChildProcess Process, Uri Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Process.DisposeAsync();
    }
}
