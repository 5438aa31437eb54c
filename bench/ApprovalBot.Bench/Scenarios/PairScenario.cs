using System.Collections.Concurrent;
using System.Text.Json;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench.Scenarios;

/// <summary>One phase of the throughput run: how many, how long, how many per second, each request's latency.</summary>
public sealed record PairPhase(int Count, int Failures, double Seconds, double PerSecond, Latency PerRequest);

public sealed record PairResult(
    string Description,
    int PoolPerProcess,
    // 1. Redeem across replicas, one approval at a time.
    int RedeemApprovals,
    int Redeemed,
    int RedeemFailures,
    Latency DecisionToResult,
    Latency DecisionToUpstreamStart,
    Latency DecisionToApproveAnswered,
    double PollsPerRedeem,
    int RedeemExecutions,
    int RedeemNotOnce,
    // 2. Approvals/s: N created over both gateways, approved over both bots, redeemed over both gateways.
    int Approvals,
    int Concurrency,
    PairPhase Create,
    PairPhase Approve,
    PairPhase Redeem,
    double EndToEndSeconds,
    double EndToEndPerSecond,
    int ThroughputFailures,
    int Executions,
    int ExecutionsNotOnce,
    int ApproveRetries,
    double PollsPerRedeemUnderLoad,
    string? FirstError);

/// <summary>
/// The high-availability pair (issue 15): two gateways and two bots on one PostgreSQL and RabbitMQ.
/// <para>
/// 1. Redeem latency across replicas: a guarded call under <c>wait: retry</c> is handed back by gateway A;
/// once bot 2 lists it, it is decided at bot 2's console API, and the agent's identical call is sent to
/// gateway B (again while it hears "pending"). Measured from just before the approve request to B's
/// result, one approval at a time; each result must carry its own n, and the upstream must have run each n once.
/// </para>
/// <para>
/// 2. Approvals/s the pair sustains: N guarded calls with distinct arguments created concurrently over
/// both gateways (approval i on gateway i mod 2), approved concurrently through both bots (bot ⌊i/2⌋ mod 2,
/// so each bot decides approvals from both gateways), then redeemed concurrently on the other gateway than
/// the one that created it. Each phase starts when the previous one has ended; wall time and rate per phase
/// and end to end (approvals created, decided and collected per second); failures must be 0 and the upstream's
/// executions must be exactly one per approval.
/// </para>
/// </summary>
public sealed class PairScenario(BenchContext context, PairCluster pair)
{
    /// <summary>Concurrent requests in each throughput phase; every worker has its own MCP session on each gateway.</summary>
    private const int Workers = 32;

    public async Task<PairResult> RunAsync()
    {
        var redeemCount = context.Smoke ? 10 : 300;
        var total = context.Smoke ? 40 : 1000;
        using var http = McpSession.CreateHttpClient();
        var sessions = await Task.WhenAll(pair.McpUrls.Select(url => Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => McpSession.OpenAsync(http, url)))));

        string? firstError = null;
        void Error(string what)
        {
            Interlocked.CompareExchange(ref firstError, what, null);
            context.Fail("ha pair: " + what);
        }

        // Warm-up, unmeasured: JIT, connections and pools on every hop of both paths (A → bot 2 → B and B → bot 1 → A).
        await RedeemOneAtATimeAsync(sessions, "pw-", context.Smoke ? 2 : 4, Error);
        await Task.Delay(context.Smoke ? 200 : 1000);

        // 1. Redeem latency across replicas.
        var (toResult, toUpstream, toAnswered, polls, redeemFailures) = await RedeemOneAtATimeAsync(sessions, "pr-", redeemCount, Error);
        var redeemRuns = await pair.ExecutionsAsync("pr-");
        var redeemNotOnce = Enumerable.Range(0, redeemCount).Count(i => redeemRuns.GetValueOrDefault($"pr-{i}") != 1);
        if (redeemNotOnce > 0 || redeemRuns.Count != redeemCount)
        {
            Error($"redeem: {redeemNotOnce} of {redeemCount} approvals did not run exactly once upstream ({redeemRuns.Values.Sum()} executions, {redeemRuns.Count} distinct)");
        }

        context.Log($"ha pair: redeem across replicas decision→result p50 {Latency.FromMilliseconds(toResult).P50:F2} ms p99 {Latency.FromMilliseconds(toResult).P99:F2} ms over {toResult.Count}; failures {redeemFailures}");
        await Task.Delay(context.Smoke ? 200 : 1000);

        // 2. Approvals/s: three concurrent phases, back to back.
        var ids = new Guid[total];
        var failures = 0;
        var approveRetries = 0;
        var redeemPolls = 0;

        var started = Clock.Now;
        var create = await PhaseAsync(total, Workers, async (i, worker) =>
        {
            var gateway = i % 2;
            var session = sessions[gateway][worker];
            var result = await session.CallToolAsync("stamp_later", Args($"pt-{i}"));
            if (ApprovalCluster.PendingIdOf(result) is not { } id)
            {
                Error($"create pt-{i} on gateway {"AB"[gateway]}: not answered pending: {result.GetRawText()}");
                return false;
            }

            ids[i] = id;
            return true;
        });
        var approve = await PhaseAsync(total, Workers, async (i, _) =>
        {
            if (ids[i] == Guid.Empty)
            {
                return false;
            }

            var bot = (i / 2) % 2;
            var (ok, retries, answer) = await pair.ApproveAsync(bot, ids[i], TimeSpan.FromSeconds(60));
            Interlocked.Add(ref approveRetries, retries);
            if (!ok)
            {
                Error($"approve pt-{i} ({ids[i]}) at bot {bot + 1}: {answer}");
            }

            return ok;
        });
        var redeem = await PhaseAsync(total, Workers, async (i, worker) =>
        {
            if (ids[i] == Guid.Empty)
            {
                return false;
            }

            var gateway = (i + 1) % 2;
            var session = sessions[gateway][worker];
            var n = $"pt-{i}";
            var t0 = Clock.Now;
            while (true)
            {
                Interlocked.Increment(ref redeemPolls);
                var result = await session.CallToolAsync("stamp_later", Args(n));
                if (ApprovalCluster.IsPending(result) && Clock.Milliseconds(t0, Clock.Now) < 60_000)
                {
                    await Task.Delay(5);
                    continue;
                }

                if (ApprovalCluster.ParseStamp(result) is { } stamp && stamp.N == n)
                {
                    return true;
                }

                Error($"redeem {n} on gateway {"AB"[gateway]}: not its own result: {result.GetRawText()}");
                return false;
            }
        });
        var endToEnd = Clock.Milliseconds(started, Clock.Now) / 1000;
        failures = create.Failures + approve.Failures + redeem.Failures;

        var runs = await pair.ExecutionsAsync("pt-");
        var executions = runs.Values.Sum();
        var notOnce = Enumerable.Range(0, total).Count(i => runs.GetValueOrDefault($"pt-{i}") != 1);
        if (executions != total || notOnce > 0)
        {
            Error($"throughput: {executions} executions upstream for {total} approvals; {notOnce} not run exactly once");
        }

        foreach (var session in sessions.SelectMany(s => s))
        {
            await session.DisposeAsync();
        }

        var toResultLatency = Latency.FromMilliseconds(toResult);
        var result = new PairResult(
            "two gateways and two bots (separate processes) on one PostgreSQL database and one RabbitMQ virtual host, one bench upstream; " +
            "1: handed back by gateway A, approved at bot 2's console API, collected by the identical call on gateway B, one at a time; " +
            "2: N approvals created over both gateways, approved over both bots, collected on the other gateway, each phase concurrent",
            PairCluster.PoolPerProcess,
            redeemCount, toResult.Count, redeemFailures, toResultLatency, Latency.FromMilliseconds(toUpstream), Latency.FromMilliseconds(toAnswered),
            toResult.Count + redeemFailures == 0 ? 0 : (double)polls / (toResult.Count + redeemFailures),
            redeemRuns.Values.Sum(), redeemNotOnce,
            total, Workers, create, approve, redeem, endToEnd, total / endToEnd,
            failures, executions, notOnce, approveRetries, (double)redeemPolls / total, firstError);
        context.Log($"ha pair: {total} approvals: create {create.Seconds:F1} s ({create.PerSecond:F0}/s), approve {approve.Seconds:F1} s ({approve.PerSecond:F0}/s), " +
                    $"redeem {redeem.Seconds:F1} s ({redeem.PerSecond:F0}/s); end to end {endToEnd:F1} s = {result.EndToEndPerSecond:F0} approvals/s; failures {failures}; executions {executions}");
        await context.WriteResultAsync("pair", result);
        return result;
    }

    /// <summary>
    /// <paramref name="count"/> approvals, one at a time: handed back by one gateway, decided at the other
    /// bot, collected on the other gateway (A → bot 2 → B, and for the warm-up also B → bot 1 → A).
    /// </summary>
    private async Task<(List<double> ToResult, List<double> ToUpstream, List<double> ToAnswered, int Polls, int Failures)> RedeemOneAtATimeAsync(
        McpSession[][] sessions, string prefix, int count, Action<string> error)
    {
        var warmup = prefix == "pw-";
        var ids = new Guid[count];
        for (var i = 0; i < count; i++)
        {
            var from = warmup ? i % 2 : 0;
            var result = await sessions[from][i % Workers].CallToolAsync("stamp_later", Args($"{prefix}{i}"));
            if (ApprovalCluster.PendingIdOf(result) is not { } id)
            {
                throw new InvalidOperationException($"ha pair: {prefix}{i} was not answered pending: {result.GetRawText()}");
            }

            ids[i] = id;
        }

        // Decide only once both bots list them all: the measure is decision → result, not the bots catching up.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        foreach (var bot in new[] { 0, 1 })
        {
            while (!(await pair.PendingAtBotAsync(bot)).IsSupersetOf(ids))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"ha pair: bot {bot + 1} did not list the {count} {prefix} approvals within 60 s");
                }

                await Task.Delay(50);
            }
        }

        var toResult = new List<double>();
        var toUpstream = new List<double>();
        var toAnswered = new List<double>();
        var polls = 0;
        var failures = 0;
        for (var i = 0; i < count; i++)
        {
            var from = warmup ? i % 2 : 0;
            var to = 1 - from;
            var bot = to;
            var n = $"{prefix}{i}";
            var session = sessions[to][i % Workers];
            var t0 = Clock.Now;
            var (ok, _, answer) = await pair.ApproveAsync(bot, ids[i], TimeSpan.FromSeconds(10));
            if (!ok)
            {
                error($"approve {n} ({ids[i]}) at bot {bot + 1}: {answer}");
                failures++;
                continue;
            }

            toAnswered.Add(Clock.Milliseconds(t0, Clock.Now));
            while (true)
            {
                polls++;
                var result = await session.CallToolAsync("stamp_later", Args(n));
                if (ApprovalCluster.IsPending(result) && Clock.Milliseconds(t0, Clock.Now) < 10_000)
                {
                    continue;
                }

                var returned = Clock.Now;
                if (ApprovalCluster.ParseStamp(result) is { } stamp && stamp.N == n)
                {
                    toResult.Add(Clock.Milliseconds(t0, returned));
                    toUpstream.Add(Clock.Milliseconds(t0, stamp.Ts));
                }
                else
                {
                    error($"redeem {n} on gateway {"AB"[to]}: not its own result: {result.GetRawText()}");
                    failures++;
                }

                break;
            }
        }

        return (toResult, toUpstream, toAnswered, polls, failures);
    }

    /// <summary>Runs <paramref name="work"/> for 0..count-1 on <paramref name="workers"/> concurrent workers; wall time and per-item latency.</summary>
    private static async Task<PairPhase> PhaseAsync(int count, int workers, Func<int, int, Task<bool>> work)
    {
        var next = -1;
        var failures = 0;
        var latencies = new ConcurrentBag<double>();
        var started = Clock.Now;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var t0 = Clock.Now;
                var ok = await work(i, worker);
                latencies.Add(Clock.Milliseconds(t0, Clock.Now));
                if (!ok)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }));
        var seconds = Clock.Milliseconds(started, Clock.Now) / 1000;
        return new PairPhase(count, failures, seconds, count / seconds, Latency.FromMilliseconds(latencies));
    }

    private static string Args(string n) => $$"""{"n":"{{n}}"}""";

}
