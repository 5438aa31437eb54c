using System.Text.Json;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench.Scenarios;

public sealed record ParkedResult(
    string Description,
    int Calls,
    int Sessions,
    ProcStatus GatewayBefore,
    ProcStatus GatewayParked,
    ProcStatus GatewayAfter,
    ProcStatus BotParked,
    double BytesPerParkedCall,
    double SecondsToParkAll,
    Latency HealthzWhileParked,
    double SecondsToReleaseAll,
    double ReleasedPerSecond,
    Latency DecisionToUpstreamStart,
    int ApproveRetries,
    int WrongOrMissingResults,
    ProcStatus FloorBefore,
    ProcStatus FloorParked,
    double FloorBytesPerPendingCall,
    ProcStatus GatewayHalfParked,
    double MarginalBytesPerParkedCall,
    double FloorMarginalBytesPerPendingCall);

/// <summary>
/// Scenario 4: N concurrent MCP requests parked on the gateway at once (distinct arguments, so N
/// approvals), then a bulk approval through the console API (16 concurrent POSTs) until every call
/// has returned its own upstream result. Memory and threads come from /proc of the gateway process.
/// </summary>
public sealed class ParkedScenario(BenchContext context, ApprovalCluster cluster)
{
    private const int InFlightWhileParking = 256;
    private const int ApproveWorkers = 16;

    public async Task<ParkedResult> RunAsync()
    {
        var total = context.Smoke ? 200 : 10_000;
        var sessionCount = context.Smoke ? 10 : 100;
        var (floorBefore, floorHalf, floorParked, floorPerCall) = await MeasureFloorAsync(total, sessionCount);
        // Its own client: its thousands of connections are closed when the scenario ends.
        using var http = McpSession.CreateHttpClient();
        var sessions = new McpSession[sessionCount];
        for (var i = 0; i < sessionCount; i++)
        {
            sessions[i] = await McpSession.OpenAsync(http, cluster.McpUrl);
        }

        // Settle, then the baseline.
        await Task.Delay(2000);
        var before = cluster.Gateway.Status();
        context.Log($"parked: gateway before: RSS {before.RssKb / 1024.0:F1} MiB, {before.Threads} threads; parking {total} calls");

        var gate = new SemaphoreSlim(InFlightWhileParking);
        var ids = new Guid[total];
        var parkedAt = new long[total];
        var doneAt = new long[total];
        var upstreamTs = new long[total];
        var wrong = 0;
        var parkStart = Clock.Now;
        var calls = Enumerable.Range(0, total).Select(i => Task.Run(async () =>
        {
            var n = $"pk-{i}";
            var id = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
            await gate.WaitAsync();
            Task<JsonElement> call;
            try
            {
                call = sessions[i % sessionCount].CallToolAsync("stamp", $$"""{"n":"{{n}}"}""", progressToken: n,
                    onNotification: m =>
                    {
                        if (ApprovalCluster.ApprovalIdOf(m) is { } approval)
                        {
                            id.TrySetResult(approval);
                        }
                    });
                await Task.WhenAny(id.Task, call);
            }
            finally
            {
                gate.Release();
            }

            if (!id.Task.IsCompleted)
            {
                Interlocked.Increment(ref wrong);
                context.Fail($"parked: call {n} was not parked: {(call.IsFaulted ? call.Exception!.GetBaseException().Message : call.Result.GetRawText())}");
                return;
            }

            ids[i] = id.Task.Result;
            parkedAt[i] = Clock.Now;
            try
            {
                var result = await call;
                doneAt[i] = Clock.Now;
                if (ApprovalCluster.ParseStamp(result) is { } stamp && stamp.N == n)
                {
                    upstreamTs[i] = stamp.Ts;
                }
                else
                {
                    Interlocked.Increment(ref wrong);
                }
            }
            catch (Exception e) when (e is McpCallException or HttpRequestException or IOException)
            {
                Interlocked.Increment(ref wrong);
                context.Fail($"parked: call {n} failed: {e.Message}");
            }
        })).ToArray();

        // All parked: every call has its approval id. Memory is also read at half-way: the slope from
        // there to all parked is the marginal cost per call, less sensitive to the heap's slack at the start.
        ProcStatus? half = null;
        int parkedCount;
        while ((parkedCount = ids.Count(g => g != Guid.Empty)) + Volatile.Read(ref wrong) < total)
        {
            if (half is null && parkedCount >= total / 2)
            {
                half = cluster.Gateway.Status();
            }

            await Task.Delay(50);
        }

        var parkSeconds = Clock.Milliseconds(parkStart, parkedAt.Max()) / 1000;
        context.Log($"parked: {total} calls parked in {parkSeconds:F1} s");
        await Task.Delay(2000);
        var parked = cluster.Gateway.Status();
        var botParked = cluster.Bot.Status();
        var perCall = (parked.RssKb - before.RssKb) * 1024.0 / total;
        context.Log($"parked: gateway RSS {parked.RssKb / 1024.0:F1} MiB ({perCall / 1024:F1} KiB per call), {parked.Threads} threads");

        // Thread-pool health: a cheap endpoint answered while everything is parked.
        var healthz = new List<double>();
        using (var probe = new HttpClient { BaseAddress = cluster.GatewayUrl, Timeout = TimeSpan.FromSeconds(30) })
        {
            for (var i = 0; i < 50; i++)
            {
                var t = Clock.Now;
                using var _ = await probe.GetAsync("/healthz");
                healthz.Add(Clock.Milliseconds(t, Clock.Now));
                await Task.Delay(10);
            }
        }

        // Bulk approval: every id through the console API, 16 at a time.
        var retries = 0;
        var next = -1;
        var approveStart = Clock.Now;
        var decidedAt = new long[total];
        var approvers = Enumerable.Range(0, ApproveWorkers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                if (ids[i] == Guid.Empty)
                {
                    continue;
                }

                decidedAt[i] = Clock.Now;
                var (ok, r, answer) = await cluster.ApproveAsync(ids[i], TimeSpan.FromSeconds(60));
                Interlocked.Add(ref retries, r);
                if (!ok)
                {
                    context.Fail($"parked: approve {ids[i]} answered {answer}");
                }
            }
        })).ToArray();
        await Task.WhenAll(approvers);
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(5));
        var releaseSeconds = Clock.Milliseconds(approveStart, doneAt.Max()) / 1000;
        await Task.Delay(2000);
        var after = cluster.Gateway.Status();
        var decisionToUpstream = Enumerable.Range(0, total).Where(i => upstreamTs[i] != 0).Select(i => Clock.Milliseconds(decidedAt[i], upstreamTs[i]));

        foreach (var session in sessions)
        {
            await session.DisposeAsync();
        }

        var result = new ParkedResult(
            $"{total} concurrent tools/call requests parked on one gateway process (each its own approval), then approved in bulk",
            total,
            sessionCount,
            before,
            parked,
            after,
            botParked,
            perCall,
            parkSeconds,
            Latency.FromMilliseconds(healthz),
            releaseSeconds,
            total / releaseSeconds,
            Latency.FromMilliseconds(decisionToUpstream),
            retries,
            wrong,
            floorBefore,
            floorParked,
            floorPerCall,
            half ?? parked,
            (parked.RssKb - (half ?? before).RssKb) * 1024.0 / (total - total / 2),
            (floorParked.RssKb - floorHalf.RssKb) * 1024.0 / (total - total / 2));
        context.Log($"parked: released all in {releaseSeconds:F1} s ({result.ReleasedPerSecond:F0}/s); wrong or missing results {wrong}; gateway after: RSS {after.RssKb / 1024.0:F1} MiB, {after.Threads} threads");
        if (wrong > 0)
        {
            context.Fail($"parked: {wrong} calls did not return their own upstream result");
        }

        await context.WriteResultAsync("parked", result);
        return result;
    }

    /// <summary>
    /// The floor: the same number of pending tools/call requests on a bare Kestrel + MCP C# SDK server
    /// (the bench upstream's <c>hold</c> tool), so the gateway's own share of the per-call memory shows.
    /// </summary>
    private async Task<(ProcStatus Before, ProcStatus Half, ProcStatus Parked, double BytesPerCall)> MeasureFloorAsync(int total, int sessionCount)
    {
        var (process, url) = await Targets.StartBenchUpstreamAsync(context, "floor-upstream");
        using var http = McpSession.CreateHttpClient();
        await using (process)
        {
            var sessions = new McpSession[sessionCount];
            for (var i = 0; i < sessionCount; i++)
            {
                sessions[i] = await McpSession.OpenAsync(http, url);
            }

            await sessions[0].CallToolAsync("held", "{}");
            await Task.Delay(2000);
            var before = process.Status();
            // In steps of InFlightWhileParking: each step's calls are all waiting before the next step starts.
            var calls = new List<Task<System.Text.Json.JsonElement>>(total);
            var waited = System.Diagnostics.Stopwatch.StartNew();
            ProcStatus? half = null;
            while (calls.Count < total)
            {
                if (half is null && calls.Count >= total / 2)
                {
                    half = process.Status();
                }

                var step = Math.Min(InFlightWhileParking, total - calls.Count);
                for (var k = 0; k < step; k++)
                {
                    var i = calls.Count;
                    calls.Add(sessions[i % sessionCount].CallToolAsync("hold", $$"""{"n":"f-{{i}}"}"""));
                }

                while (int.Parse(McpSession.Text(await sessions[0].CallToolAsync("held", "{}")), System.Globalization.CultureInfo.InvariantCulture) < calls.Count)
                {
                    if (waited.Elapsed > TimeSpan.FromMinutes(2) || calls.Any(c => c.IsFaulted))
                    {
                        throw new InvalidOperationException("parked floor: the hold calls did not all arrive: " + calls.FirstOrDefault(c => c.IsFaulted)?.Exception?.GetBaseException().Message);
                    }

                    await Task.Delay(10);
                }
            }

            await Task.Delay(2000);
            var parked = process.Status();
            await sessions[0].CallToolAsync("release", "{}");
            var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(2));
            var wrong = results.Where((r, i) => McpSession.Text(r) != $"f-{i}").Count();
            if (wrong > 0)
            {
                context.Fail($"parked floor: {wrong} hold calls returned something else");
            }

            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }

            var perCall = (parked.RssKb - before.RssKb) * 1024.0 / total;
            context.Log($"parked floor (bare Kestrel + MCP SDK, {total} pending calls): RSS {before.RssKb / 1024.0:F1} → {parked.RssKb / 1024.0:F1} MiB, {perCall / 1024:F1} KiB per call");
            return (before, half ?? before, parked, perCall);
        }
    }
}
