using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using Agentwork.Sample;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace ApprovalBot.Bench.Upstream;

/// <summary>
/// The sample's tools (<c>ping</c> is the cheapest call) served over Streamable HTTP, plus
/// <c>stamp</c>, which answers the moment it starts with the machine's monotonic clock so the
/// bench can tell when a released call reached the upstream. <c>GET /stamps?prefix=…</c> counts the
/// executions per argument (<c>{"n": count}</c>), so the bench can prove each approval ran exactly once.
/// </summary>
public static class BenchUpstream
{
    public static async Task<int> RunAsync(int port)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Path.GetTempPath() });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddSingleton<WorkState>();
        builder.Services
            .AddMcpServer(o => o.ServerInfo = new() { Name = "bench-upstream", Version = "1.0.0" })
            .WithHttpTransport()
            .WithTools<AgentworkTools>()
            .WithTools<AwxTools>()
            .WithTools<StampTool>()
            .WithTools<HoldTool>();
        var app = builder.Build();
        app.MapMcp("/mcp");
        app.MapGet("/stamps", (string? prefix) => StampTool.Counts(prefix ?? ""));
        await app.RunAsync();
        return 0;
    }
}

[McpServerToolType]
public sealed class StampTool
{
    private static readonly ConcurrentDictionary<string, int> Executions = new(StringComparer.Ordinal);

    [McpServerTool(Name = "stamp", Destructive = true), Description("Answers {n, ts}: the argument and the monotonic clock when the call started.")]
    public static string Stamp([Description("Any short text; echoed back")] string n)
    {
        var ts = Stopwatch.GetTimestamp();
        Executions.AddOrUpdate(n, 1, (_, count) => count + 1);
        return $$"""{"n":"{{n}}","ts":{{ts}}}""";
    }

    /// <summary>How many times stamp (or stamp_later) ran with each n that starts with <paramref name="prefix"/>.</summary>
    public static Dictionary<string, int> Counts(string prefix) =>
        Executions.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);

    [McpServerTool(Name = "stamp_later", Destructive = true), Description("The same as stamp; guarded with wait: retry in the bench (the call is handed back at once, collected later).")]
    public static string StampLater([Description("Any short text; echoed back")] string n) => Stamp(n);
}

/// <summary>
/// <c>hold</c> waits until <c>release</c> is called: N pending calls on a bare Kestrel + MCP SDK server,
/// the floor any MCP server built on them pays per open call (the parked-call scenario compares the gateway with it).
/// </summary>
[McpServerToolType]
public sealed class HoldTool
{
    private static TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private static int _held;

    [McpServerTool(Name = "hold"), Description("Waits until release is called, then answers n.")]
    public static async Task<string> Hold([Description("Echoed back")] string n, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _held);
        try
        {
            await Volatile.Read(ref _gate).Task.WaitAsync(cancellationToken);
            return n;
        }
        finally
        {
            Interlocked.Decrement(ref _held);
        }
    }

    [McpServerTool(Name = "held", ReadOnly = true), Description("How many hold calls are waiting.")]
    public static string Held() => Volatile.Read(ref _held).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [McpServerTool(Name = "release"), Description("Answers every waiting hold call.")]
    public static string Release()
    {
        Interlocked.Exchange(ref _gate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        return "released";
    }
}
