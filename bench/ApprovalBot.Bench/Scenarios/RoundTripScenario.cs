using System.Text.Json;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench.Scenarios;

public sealed record RoundTripResult(
    string Description,
    int Approvals,
    int Failures,
    Latency DecisionToUpstreamStart,
    Latency DecisionToConsoleAnswer,
    Latency DecisionToAgentResult,
    Latency CallToParked);

/// <summary>
/// Scenario 3: decision arriving at the bot → the upstream starting the call, with gateway and
/// bot as separate processes over RabbitMQ on loopback. Calls are parked in batches; then each
/// approval is sent alone (the next only after the previous call returned) so no queueing hides in it.
/// <para>
/// Measurement: t0 is the bench's monotonic clock just before it sends
/// <c>POST /api/approvals/{id}/approve</c> to the bot (loopback, so the request reaches the bot tens
/// of microseconds later). The upstream's <c>stamp</c> tool reads the same machine-wide monotonic clock
/// (CLOCK_MONOTONIC) as its first action and returns it; the difference is decision → upstream start.
/// </para>
/// </summary>
public sealed class RoundTripScenario(BenchContext context, ApprovalCluster cluster)
{
    public async Task<RoundTripResult> RunAsync()
    {
        var total = context.Smoke ? 20 : 1000;
        var batch = context.Smoke ? 10 : 50;
        var upstreamStart = new List<double>();
        var consoleAnswer = new List<double>();
        var agentResult = new List<double>();
        var parkedAfter = new List<double>();
        var failures = 0;
        var sessions = new McpSession[4];
        for (var i = 0; i < sessions.Length; i++)
        {
            sessions[i] = await McpSession.OpenAsync(context.Http, cluster.McpUrl);
        }

        // One approved call first, unmeasured: JIT and connections on every hop.
        await RunBatchAsync(sessions, -1, 1, null, null, null, null);

        for (var start = 0; start < total; start += batch)
        {
            failures += await RunBatchAsync(sessions, start, Math.Min(batch, total - start), upstreamStart, consoleAnswer, agentResult, parkedAfter);
        }

        foreach (var session in sessions)
        {
            await session.DisposeAsync();
        }

        var result = new RoundTripResult(
            "ms from POST approve reaching the bot to the upstream tool starting (gateway and bot processes, RabbitMQ on loopback), one approval at a time",
            upstreamStart.Count,
            failures,
            Latency.FromMilliseconds(upstreamStart),
            Latency.FromMilliseconds(consoleAnswer),
            Latency.FromMilliseconds(agentResult),
            Latency.FromMilliseconds(parkedAfter));
        context.Log($"round trip: decision→upstream p50 {result.DecisionToUpstreamStart.P50:F2} ms p99 {result.DecisionToUpstreamStart.P99:F2} ms over {result.Approvals}; failures {failures}");
        if (failures > 0)
        {
            context.Fail($"round trip: {failures} approvals did not come back with their own upstream result");
        }

        await context.WriteResultAsync("roundtrip", result);
        return result;
    }

    private async Task<int> RunBatchAsync(
        McpSession[] sessions, int first, int count,
        List<double>? upstreamStart, List<double>? consoleAnswer, List<double>? agentResult, List<double>? parkedAfter)
    {
        var failures = 0;
        var calls = new List<(string N, Task<JsonElement> Call, Task<Guid> Id, long Sent)>();
        for (var i = 0; i < count; i++)
        {
            var n = first < 0 ? "rt-warmup-" + Targets.RandomSuffix() : $"rt-{first + i}";
            var id = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
            var sent = Clock.Now;
            var call = sessions[i % sessions.Length].CallToolAsync(
                "stamp", $$"""{"n":"{{n}}"}""", progressToken: n,
                onNotification: m =>
                {
                    if (ApprovalCluster.ApprovalIdOf(m) is { } approval && id.TrySetResult(approval) && parkedAfter is not null)
                    {
                        // Notifications of different calls arrive on different threads.
                        var ms = Clock.Milliseconds(sent, Clock.Now);
                        lock (parkedAfter)
                        {
                            parkedAfter.Add(ms);
                        }
                    }
                });
            calls.Add((n, call, id.Task, sent));
        }

        // Every call parked (the gateway named its approval) and the bot knows every approval.
        foreach (var (n, call, id, _) in calls)
        {
            if (await Task.WhenAny(id, call, Task.Delay(TimeSpan.FromSeconds(60))) != id)
            {
                throw new InvalidOperationException($"round trip: call {n} was not parked: {(call.IsCompleted ? Describe(call) : "no progress notification within 60 s")}");
            }
        }

        var ids = calls.Select(c => c.Id.Result).ToHashSet();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!ids.IsSubsetOf(await cluster.PendingAtBotAsync()))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException("round trip: the bot did not list the parked approvals within 60 s");
            }

            await Task.Delay(20);
        }

        foreach (var (n, call, id, _) in calls)
        {
            var t0 = Clock.Now;
            var (ok, _, answer) = await cluster.ApproveAsync(id.Result, TimeSpan.FromSeconds(10));
            var answered = Clock.Now;
            if (!ok)
            {
                context.Fail($"round trip: approve {id.Result} answered {answer}");
                failures++;
                continue;
            }

            var result = await call.WaitAsync(TimeSpan.FromSeconds(60));
            var returned = Clock.Now;
            if (ApprovalCluster.ParseStamp(result) is not { } stamp || stamp.N != n)
            {
                failures++;
                continue;
            }

            upstreamStart?.Add(Clock.Milliseconds(t0, stamp.Ts));
            consoleAnswer?.Add(Clock.Milliseconds(t0, answered));
            agentResult?.Add(Clock.Milliseconds(t0, returned));
        }

        return failures;
    }

    private static string Describe(Task<JsonElement> call) =>
        call.IsFaulted ? call.Exception!.GetBaseException().Message : call.Result.GetRawText();
}
