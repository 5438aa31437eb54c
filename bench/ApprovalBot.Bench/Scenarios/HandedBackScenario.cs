using System.Text.Json;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench.Scenarios;

public sealed record HandedBackResult(
    string Description,
    int Approvals,
    ProcStatus GatewayBefore,
    ProcStatus GatewayHalf,
    ProcStatus GatewayAfterFirst,
    ProcStatus GatewayAfterSecond,
    double BytesPerApprovalFirst,
    double BytesPerApprovalMarginal,
    double BytesPerApprovalSecond,
    double SecondsToHandBack,
    int Redeemed,
    int RedeemFailures,
    Latency DecisionToResult,
    Latency DecisionToUpstreamStart,
    double PollsPerRedeem);

/// <summary>
/// Scenario 5, the cost of waiting when nobody waits: N guarded calls whose rule says <c>wait: retry</c>
/// (distinct arguments, so N approvals) are each answered at once with "pending" and the approval is left
/// in the database; the gateway's RSS before, at N/2 and after N, then after N more. An approval with
/// nobody waiting must cost no memory of its own, so the second N should not grow the process.
/// Then the redeem path: an approval is decided at the bot (console API), and the agent's identical call
/// (sent again until it no longer hears "pending") collects the result; measured from just before the
/// decision is sent to that call's result, one approval at a time.
/// </summary>
public sealed class HandedBackScenario(BenchContext context, ApprovalCluster cluster)
{
    private const int Workers = 32;

    public async Task<HandedBackResult> RunAsync()
    {
        var total = context.Smoke ? 200 : 10_000;
        var redeem = context.Smoke ? 10 : 300;
        using var http = McpSession.CreateHttpClient();
        var sessions = new McpSession[Workers];
        for (var i = 0; i < Workers; i++)
        {
            sessions[i] = await McpSession.OpenAsync(http, cluster.McpUrl);
        }

        // Warm-up (JIT, connections), unmeasured, then the baseline.
        await HandBackAsync(sessions, "hb-warmup-" + Targets.RandomSuffix() + "-", 0, Workers * 4, null);
        await Task.Delay(2000);
        var before = cluster.Gateway.Status();
        var started = Clock.Now;
        var ids = new Guid[total];
        ProcStatus? half = null;
        await HandBackAsync(sessions, "hb-", 0, total / 2, ids);
        half = cluster.Gateway.Status();
        await HandBackAsync(sessions, "hb-", total / 2, total, ids);
        var seconds = Clock.Milliseconds(started, Clock.Now) / 1000;
        await Task.Delay(2000);
        var afterFirst = cluster.Gateway.Status();
        await HandBackAsync(sessions, "hb2-", 0, total, null);
        await Task.Delay(2000);
        var afterSecond = cluster.Gateway.Status();
        double PerApproval(ProcStatus from, ProcStatus to, int count) => (to.RssKb - from.RssKb) * 1024.0 / count;
        context.Log($"handed back: {total} approvals pending with nobody waiting in {seconds:F1} s; gateway RSS {before.RssKb / 1024.0:F1} → {afterFirst.RssKb / 1024.0:F1} → {afterSecond.RssKb / 1024.0:F1} MiB after {total} more");

        // The redeem path, one approval at a time.
        var toResult = new List<double>();
        var toUpstream = new List<double>();
        var polls = 0;
        var failures = 0;
        var session = sessions[0];
        for (var i = 0; i < redeem; i++)
        {
            var n = $"hb-{i}";
            var t0 = Clock.Now;
            var (ok, _, answer) = await cluster.ApproveAsync(ids[i], TimeSpan.FromSeconds(10));
            if (!ok)
            {
                context.Fail($"handed back: approve {ids[i]} answered {answer}");
                failures++;
                continue;
            }

            while (true)
            {
                polls++;
                var result = await session.CallToolAsync("stamp_later", $$"""{"n":"{{n}}"}""");
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
                    failures++;
                }

                break;
            }
        }

        foreach (var s in sessions)
        {
            await s.DisposeAsync();
        }

        var result2 = new HandedBackResult(
            "guarded calls with wait: retry answered pending at once (nobody waits); gateway RSS from /proc; then decision at the bot → the identical call's result",
            total, before, half, afterFirst, afterSecond,
            PerApproval(before, afterFirst, total), PerApproval(half, afterFirst, total - total / 2), PerApproval(afterFirst, afterSecond, total),
            seconds, toResult.Count, failures, Latency.FromMilliseconds(toResult), Latency.FromMilliseconds(toUpstream),
            toResult.Count == 0 ? 0 : (double)polls / (toResult.Count + failures));
        context.Log($"handed back: {result2.BytesPerApprovalFirst / 1024:F2} KiB per approval (marginal {result2.BytesPerApprovalMarginal / 1024:F2}, next {total}: {result2.BytesPerApprovalSecond / 1024:F2}); redeem decision→result p50 {result2.DecisionToResult.P50:F2} ms p99 {result2.DecisionToResult.P99:F2} ms over {toResult.Count}, {result2.PollsPerRedeem:F2} calls per redeem; failures {failures}");
        if (failures > 0)
        {
            context.Fail($"handed back: {failures} redeemed calls did not return their own upstream result");
        }

        await context.WriteResultAsync("handedback", result2);
        return result2;
    }

    /// <summary>Calls <c>stamp_later</c> for <paramref name="prefix"/>{from..to-1} on every session at once; each must answer "pending" with its approval's id.</summary>
    private static async Task HandBackAsync(McpSession[] sessions, string prefix, int from, int to, Guid[]? ids)
    {
        var next = from - 1;
        await Task.WhenAll(sessions.Select(async session =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < to)
            {
                var result = await session.CallToolAsync("stamp_later", $$"""{"n":"{{prefix}}{{i}}"}""");
                if (ApprovalCluster.PendingIdOf(result) is not { } id)
                {
                    throw new InvalidOperationException($"handed back: call {prefix}{i} was not answered pending: {result.GetRawText()}");
                }

                if (ids is not null)
                {
                    ids[i] = id;
                }
            }
        }));
    }
}
