using System.Diagnostics;
using System.Globalization;
using ApprovalBot.Bench;
using ApprovalBot.Bench.Infrastructure;
using ApprovalBot.Bench.Scenarios;
using ApprovalBot.Bench.Upstream;

// ApprovalBot.Bench run [--smoke] [--only overhead,roundtrip,parked,handedback,status,pair] [--targets direct,approvalbot,…] [--rabbitmq-port P] [--rabbitmq-vhost V] [--postgres-port P] [--results DIR]
// ApprovalBot.Bench upstream --port P          the HTTP upstream the scenarios start
// ApprovalBot.Bench report [--results DIR]     prints the table from the JSON results
// ApprovalBot.Bench load --url U --tool T …     ad-hoc load on one target (for profiling)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string? Option(string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

var verb = args.Length > 0 ? args[0] : "run";
var results = verb == "upstream" ? "" : Option("--results") ?? BenchPaths.Results;
switch (verb)
{
    case "upstream":
        return await BenchUpstream.RunAsync(int.Parse(Option("--port") ?? throw new ArgumentException("--port is required"), CultureInfo.InvariantCulture));
    case "report":
        Console.WriteLine(Report.Build(results));
        return 0;
    case "load":
    {
        // Ad-hoc load against one URL (for profiling): load --url U --tool T [--args JSON] [--expect TEXT] [--concurrency C] [--calls N] [--seconds S]
        using var http = McpSession.CreateHttpClient();
        var concurrency = int.Parse(Option("--concurrency") ?? "1", CultureInfo.InvariantCulture);
        var run = await LoadRunner.RunAsync(
            http, "adhoc", new Uri(Option("--url") ?? throw new ArgumentException("--url is required")), Option("--tool") ?? "ping", Option("--args") ?? "{}", Option("--expect") ?? "",
            concurrency, warmupCalls: 200, measuredCalls: int.Parse(Option("--calls") ?? "2000", CultureInfo.InvariantCulture),
            warmup: TimeSpan.FromSeconds(1), duration: TimeSpan.FromSeconds(double.Parse(Option("--seconds") ?? "5", CultureInfo.InvariantCulture)));
        Console.WriteLine($"c={concurrency} calls {run.Calls} errors {run.Errors} p50 {run.Latency.P50:F3} ms p90 {run.Latency.P90:F3} ms p99 {run.Latency.P99:F3} ms max {run.Latency.Max:F3} ms {run.CallsPerSecond:F0} calls/s {run.FirstError}");
        return 0;
    }
    case "run":
        break;
    default:
        Console.Error.WriteLine($"unknown verb '{verb}': use run, upstream or report");
        return 2;
}

// Many parked calls mean many sockets and many pooled threads' worth of work: start the pool warm.
ThreadPool.SetMinThreads(Math.Max(Environment.ProcessorCount * 4, 16), 16);
var smoke = args.Contains("--smoke");
var only = (Option("--only") ?? "overhead,roundtrip,parked,handedback,status,pair").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
var rabbitPort = Option("--rabbitmq-port") is { } p ? int.Parse(p, CultureInfo.InvariantCulture) : (int?)null;
var postgresPort = Option("--postgres-port") is { } pg ? int.Parse(pg, CultureInfo.InvariantCulture) : (int?)null;
await using var context = new BenchContext(smoke, results, rabbitPort, Option("--rabbitmq-vhost") ?? "/", postgresPort);
context.Log($"bench {(smoke ? "smoke" : "full")} run; work directory {context.WorkDirectory}");
var clock = Stopwatch.StartNew();
await context.WriteResultAsync("run", new
{
    Mode = smoke ? "smoke (tiny N; not for comparison)" : "full",
    Machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024 * 1024.0):F0} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
    At = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
});

if (only.Contains("overhead"))
{
    var targets = Option("--targets")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
    await new OverheadScenario(context, targets).RunAsync();
}

if (only.Overlaps(["roundtrip", "parked", "handedback", "status", "pair"]) && rabbitPort is null)
{
    context.Fail("roundtrip, parked, handedback, status and pair need RabbitMQ: pass --rabbitmq-port (bench/run.sh does)");
}
else
{
    if (only.Overlaps(["roundtrip", "parked", "handedback"]))
    {
        context.Log("starting gateway and bot processes on RabbitMQ");
        await using var cluster = await ApprovalCluster.StartAsync(context);
        if (only.Contains("roundtrip"))
        {
            await Guard("roundtrip", () => new RoundTripScenario(context, cluster).RunAsync());
        }

        if (only.Contains("handedback"))
        {
            // After the round trip, which waits for its approvals in the bot's pending list (this leaves thousands there),
            // and before the parked calls, whose 10,000 connections would leave the gateway's heap far above its working size.
            await Guard("handedback", () => new HandedBackScenario(context, cluster).RunAsync());
        }

        if (only.Contains("parked"))
        {
            await Guard("parked", () => new ParkedScenario(context, cluster).RunAsync());
        }
    }

    if (only.Contains("status"))
    {
        await Guard("status", () => new StatusScenario(context).RunAsync());
    }

    if (only.Contains("pair") && postgresPort is null)
    {
        context.Fail("pair needs PostgreSQL: pass --postgres-port (bench/run.sh does)");
    }
    else if (only.Contains("pair"))
    {
        context.Log("starting two gateways and two bots on PostgreSQL and RabbitMQ (the ha pair)");
        await Guard("pair", async () =>
        {
            await using var pair = await PairCluster.StartAsync(context);
            return await new PairScenario(context, pair).RunAsync();
        });
    }
}

context.Log($"scenarios done in {clock.Elapsed.TotalSeconds:F0} s; logs in {context.LogDirectory}");
if (context.Failures.Count > 0)
{
    Console.Error.WriteLine($"{context.Failures.Count} failure(s):");
    foreach (var failure in context.Failures)
    {
        Console.Error.WriteLine("  - " + failure);
    }

    return 1;
}

return 0;

async Task Guard<T>(string name, Func<Task<T>> scenario)
{
    try
    {
        await scenario();
    }
    catch (Exception e) when (e is InvalidOperationException or McpCallException or HttpRequestException or IOException or TimeoutException or System.Data.Common.DbException)
    {
        context.Fail($"{name}: {e.Message}");
    }
}
