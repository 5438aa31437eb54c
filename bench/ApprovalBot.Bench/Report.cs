using System.Globalization;
using System.Text;
using System.Text.Json;
using ApprovalBot.Bench.Infrastructure;
using ApprovalBot.Bench.Scenarios;

namespace ApprovalBot.Bench;

/// <summary>The table: every result file in bench/results, and each target met or not.</summary>
public static class Report
{
    public static string Build(string resultsDirectory)
    {
        var text = new StringBuilder();
        var verdicts = new List<(string Target, string Measured, bool? Met)>();
        var overhead = Read<OverheadResult>(resultsDirectory, "overhead");
        var policy = Read<JsonElement?>(resultsDirectory, "policy");
        var roundTrip = Read<RoundTripResult>(resultsDirectory, "roundtrip");
        var parked = Read<ParkedResult>(resultsDirectory, "parked");
        var status = Read<StatusResult>(resultsDirectory, "status");
        var handedBack = Read<HandedBackResult>(resultsDirectory, "handedback");
        var pair = Read<PairResult>(resultsDirectory, "pair");
        var mode = Read<JsonElement?>(resultsDirectory, "run");

        if (mode is { } m)
        {
            text.AppendLine($"Run: {m.GetProperty("mode").GetString()} on {m.GetProperty("machine").GetString()}, {m.GetProperty("at").GetString()}");
            text.AppendLine();
        }

        if (overhead is not null)
        {
            AppendOverhead(text, overhead, verdicts);
        }

        if (policy is { } p)
        {
            AppendPolicy(text, p, verdicts);
        }

        if (roundTrip is not null)
        {
            text.AppendLine("### Approval round trip (gateway and bot processes, RabbitMQ on loopback)");
            text.AppendLine();
            text.AppendLine("| measure | n | p50 ms | p90 ms | p99 ms | max ms |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|");
            Row(text, "decision at bot → upstream call starts", roundTrip.DecisionToUpstreamStart);
            Row(text, "decision at bot → console API answered", roundTrip.DecisionToConsoleAnswer);
            Row(text, "decision at bot → agent has the result", roundTrip.DecisionToAgentResult);
            Row(text, "call sent → parked (approval named; 50 calls sent at once)", roundTrip.CallToParked);
            text.AppendLine();
            verdicts.Add(("decision-to-release p99 ≤ 50 ms", $"{F(roundTrip.DecisionToUpstreamStart.P99)} ms over {roundTrip.Approvals} approvals", roundTrip.DecisionToUpstreamStart.P99 <= 50 && roundTrip.Failures == 0));
        }

        if (parked is not null)
        {
            text.AppendLine($"### Parked calls: {parked.Calls:N0} concurrent requests on one gateway process");
            text.AppendLine();
            text.AppendLine("| measure | value |");
            text.AppendLine("|---|---:|");
            text.AppendLine($"| gateway RSS before / parked / after release | {parked.GatewayBefore.RssKb / 1024.0:F1} / {parked.GatewayParked.RssKb / 1024.0:F1} / {parked.GatewayAfter.RssKb / 1024.0:F1} MiB |");
            text.AppendLine($"| memory per parked call: (RSS parked − RSS before) / calls | {parked.BytesPerParkedCall / 1024:F1} KiB |");
            text.AppendLine($"| memory per parked call, marginal: RSS slope from {parked.Calls / 2:N0} to {parked.Calls:N0} parked | {parked.MarginalBytesPerParkedCall / 1024:F1} KiB |");
            text.AppendLine($"| floor: the same number of pending calls on a bare Kestrel + MCP C# SDK server | {parked.FloorBytesPerPendingCall / 1024:F1} KiB per call, marginal {parked.FloorMarginalBytesPerPendingCall / 1024:F1} KiB ({parked.FloorBefore.RssKb / 1024.0:F1} → {parked.FloorParked.RssKb / 1024.0:F1} MiB) |");
            text.AppendLine($"| gateway threads before / parked / after | {parked.GatewayBefore.Threads} / {parked.GatewayParked.Threads} / {parked.GatewayAfter.Threads} |");
            text.AppendLine($"| /healthz while all parked, p50 / p99 | {F(parked.HealthzWhileParked.P50)} / {F(parked.HealthzWhileParked.P99)} ms |");
            text.AppendLine($"| time to park all | {parked.SecondsToParkAll:F1} s |");
            text.AppendLine($"| bulk approval → last call returned | {parked.SecondsToReleaseAll:F1} s ({parked.ReleasedPerSecond:F0} calls/s) |");
            text.AppendLine($"| per call, approve sent → upstream start, p50 / p99 (queued behind the bulk) | {F(parked.DecisionToUpstreamStart.P50)} / {F(parked.DecisionToUpstreamStart.P99)} ms |");
            text.AppendLine($"| calls without their own upstream result | {parked.WrongOrMissingResults} |");
            text.AppendLine();
            verdicts.Add(("≤ 20 KB memory per parked call", $"{parked.BytesPerParkedCall / 1024:F1} KiB average, {parked.MarginalBytesPerParkedCall / 1024:F1} KiB marginal ({parked.Calls:N0} calls; bare Kestrel + MCP SDK: {parked.FloorBytesPerPendingCall / 1024:F1} KiB)", parked.BytesPerParkedCall <= 20 * 1024));
            verdicts.Add(("every parked call returns its own result", $"{parked.Calls - parked.WrongOrMissingResults:N0} / {parked.Calls:N0}", parked.WrongOrMissingResults == 0));
        }

        if (handedBack is not null)
        {
            var h = handedBack;
            text.AppendLine($"### Handed-back approvals: {h.Approvals:N0} pending with nobody waiting, then the redeem path");
            text.AppendLine();
            text.AppendLine("| measure | value |");
            text.AppendLine("|---|---:|");
            text.AppendLine($"| gateway RSS before / {h.Approvals / 2:N0} / {h.Approvals:N0} / {h.Approvals * 2:N0} approvals handed back | {h.GatewayBefore.RssKb / 1024.0:F1} / {h.GatewayHalf.RssKb / 1024.0:F1} / {h.GatewayAfterFirst.RssKb / 1024.0:F1} / {h.GatewayAfterSecond.RssKb / 1024.0:F1} MiB |");
            text.AppendLine($"| per approval: first {h.Approvals:N0} / marginal (second half) / next {h.Approvals:N0} | {h.BytesPerApprovalFirst / 1024:F2} / {h.BytesPerApprovalMarginal / 1024:F2} / {h.BytesPerApprovalSecond / 1024:F2} KiB |");
            text.AppendLine($"| time to hand back {h.Approvals:N0} (32 agents' sessions at once) | {h.SecondsToHandBack:F1} s |");
            text.AppendLine($"| agent calls per redeem (until it no longer hears pending) | {h.PollsPerRedeem:F2} |");
            text.AppendLine($"| redeemed calls without their own upstream result | {h.RedeemFailures} |");
            text.AppendLine();
            text.AppendLine("| measure | n | p50 ms | p90 ms | p99 ms | max ms |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|");
            Row(text, "decision at bot → redeeming call's result", h.DecisionToResult);
            Row(text, "decision at bot → upstream call starts", h.DecisionToUpstreamStart);
            text.AppendLine();
            verdicts.Add(("pending approval with nobody waiting costs no memory of its own", $"{h.BytesPerApprovalSecond / 1024:F2} KiB per approval over the second {h.Approvals:N0} ({h.BytesPerApprovalFirst / 1024:F2} KiB over the first, GC heap growth included)", h.BytesPerApprovalSecond <= 1024));
            verdicts.Add(("every redeemed call returns its own result", $"{h.Redeemed:N0} / {h.Redeemed + h.RedeemFailures:N0}", h.RedeemFailures == 0));
        }

        if (status is not null)
        {
            text.AppendLine($"### `/policy status` with {status.Approvals:N0} approvals in bot.db ({status.Pending:N0} pending, {status.ResolvedToday:N0} resolved today)");
            text.AppendLine();
            text.AppendLine("| request | n | p50 ms | p90 ms | p99 ms | max ms |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|");
            Row(text, "signed Slack `/policy status` (POST /slack/commands)", status.SlackPolicyStatus);
            Row(text, "console `GET /api/approvals?status=pending&limit=10`", status.ConsolePendingList);
            text.AppendLine();
            verdicts.Add(("/policy status well inside Slack's 3 s", $"p99 {F(status.SlackPolicyStatus.P99)} ms", status.SlackPolicyStatus.P99 < 3000));
        }

        if (pair is not null)
        {
            AppendPair(text, pair, verdicts);
        }

        var smoke = mode is { } run && run.GetProperty("mode").GetString()!.StartsWith("smoke", StringComparison.Ordinal);
        text.AppendLine(smoke ? "### Targets (smoke run: tiny N and cold processes, so not judged)" : "### Targets");
        text.AppendLine();
        text.AppendLine("| target | measured | met |");
        text.AppendLine("|---|---|:---:|");
        foreach (var (target, measured, met) in verdicts)
        {
            text.AppendLine($"| {target} | {measured} | {(met is null || (smoke && !target.StartsWith("every", StringComparison.Ordinal)) ? "–" : met.Value ? "yes" : "**no**")} |");
        }

        return text.ToString();
    }

    private static void AppendOverhead(StringBuilder text, OverheadResult overhead, List<(string, string, bool?)> verdicts)
    {
        LoadRun? Find(string target, string tool, int c) => overhead.Runs.FirstOrDefault(r => r.Target == target && r.Tool == tool && r.Concurrency == c);
        text.AppendLine("### Proxy overhead: tools/call, same client, same upstream program");
        text.AppendLine();
        text.AppendLine("| tool | target | c=1 p50 ms | c=1 p99 ms | p50 over direct | p99 over direct | c=64 p50 ms | c=64 p99 ms | c=64 calls/s | vs direct (calls/s) |");
        text.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var tool in overhead.Runs.Select(r => r.Tool).Distinct())
        {
            var direct1 = Find("direct", tool, 1);
            var direct64 = Find("direct", tool, 64);
            foreach (var target in overhead.Targets)
            {
                var one = Find(target, tool, 1);
                var many = Find(target, tool, 64);
                if (one is null && many is null)
                {
                    continue;
                }

                text.AppendLine(
                    $"| {tool} | {target} | {F(one?.Latency.P50)} | {F(one?.Latency.P99)} | {Delta(one?.Latency.P50, direct1?.Latency.P50)} | {Delta(one?.Latency.P99, direct1?.Latency.P99)} " +
                    $"| {F(many?.Latency.P50)} | {F(many?.Latency.P99)} | {N(many?.CallsPerSecond)} | {Ratio(many?.CallsPerSecond, direct64?.CallsPerSecond)} |");
            }
        }

        text.AppendLine();
        text.AppendLine("Peers, same shape of path (ratios < 1 mean ApprovalBot is faster / cheaper):");
        text.AppendLine();
        text.AppendLine("| tool | ApprovalBot vs peer | c=1 p50 ratio | c=64 p99 ratio | c=64 calls/s ratio |");
        text.AppendLine("|---|---|---:|---:|---:|");
        var pairs = new[] { ("approvalbot", "civic-passthrough"), ("approvalbot-stdio", "mcp-proxy"), ("approvalbot", "mcp-proxy") };
        var slowerThanPeer = new List<string>();
        foreach (var tool in overhead.Runs.Select(r => r.Tool).Distinct())
        {
            foreach (var (ours, peer) in pairs)
            {
                var o1 = Find(ours, tool, 1);
                var p1 = Find(peer, tool, 1);
                var o64 = Find(ours, tool, 64);
                var p64 = Find(peer, tool, 64);
                if (o1 is null || p1 is null || o64 is null || p64 is null)
                {
                    continue;
                }

                text.AppendLine($"| {tool} | {ours} vs {peer} | {Ratio(o1.Latency.P50, p1.Latency.P50)} | {Ratio(o64.Latency.P99, p64.Latency.P99)} | {Ratio(o64.CallsPerSecond, p64.CallsPerSecond)} |");
                if (o1.Latency.P50 > p1.Latency.P50 || o64.CallsPerSecond < p64.CallsPerSecond)
                {
                    slowerThanPeer.Add($"{tool} {ours} vs {peer}");
                }
            }
        }

        text.AppendLine();
        foreach (var tool in overhead.Runs.Select(r => r.Tool).Distinct())
        {
            foreach (var (target, kind) in new[] { ("approvalbot", "HTTP"), ("approvalbot-stdio", "stdio") })
            {
                var ours = Find(target, tool, 1);
                var direct = Find("direct", tool, 1);
                if (ours is not null && direct is not null)
                {
                    var p50 = ours.Latency.P50 - direct.Latency.P50;
                    var p99 = ours.Latency.P99 - direct.Latency.P99;
                    verdicts.Add(($"overhead p50 ≤ 0.3 ms over direct, c=1 ({tool}, {kind} upstream)", $"{Delta(ours.Latency.P50, direct.Latency.P50)} ms", p50 <= 0.3));
                    verdicts.Add(($"overhead p99 ≤ 2 ms over direct, c=1 ({tool}, {kind} upstream)", $"{Delta(ours.Latency.P99, direct.Latency.P99)} ms", p99 <= 2));
                }

                var many = Find(target, tool, 64);
                if (many is not null)
                {
                    verdicts.Add(($"≥ 5,000 allowed calls/s at c=64 ({tool}, {kind} upstream)", $"{N(many.CallsPerSecond)} calls/s (direct: {N(Find("direct", tool, 64)?.CallsPerSecond)})", many.CallsPerSecond >= 5000));
                }
            }
        }

        if (Find("approvalbot", "ping", 64) is { } ping64 && Find("direct", "ping", 64) is { } direct64Ping)
        {
            var ratio = ping64.CallsPerSecond / direct64Ping.CallsPerSecond;
            verdicts.Add(("≥ 0.8× direct calls/s at c=64 (ping, HTTP upstream)", $"{ratio:F2}× ({N(ping64.CallsPerSecond)} / {N(direct64Ping.CallsPerSecond)})", ratio >= 0.8));
        }

        verdicts.Add(("no slower than any peer (c=1 p50, c=64 calls/s)", slowerThanPeer.Count == 0 ? "faster on every pair" : "slower: " + string.Join(", ", slowerThanPeer), slowerThanPeer.Count == 0));
    }

    private static void AppendPair(StringBuilder text, PairResult p, List<(string, string, bool?)> verdicts)
    {
        text.AppendLine("### HA pair: two gateways and two bots on one PostgreSQL and RabbitMQ");
        text.AppendLine();
        text.AppendLine($"Redeem across replicas, one approval at a time: handed back by gateway A, approved at bot 2's console API, collected by the identical call on gateway B ({p.PollsPerRedeem:F2} calls on B per redeem; {p.RedeemFailures} without their own result; upstream executions {p.RedeemExecutions} for {p.RedeemApprovals} approvals, {p.RedeemNotOnce} not exactly once).");
        text.AppendLine();
        text.AppendLine("| measure | n | p50 ms | p90 ms | p99 ms | max ms |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        Row(text, "decision at bot 2 → gateway B's call has the result", p.DecisionToResult);
        Row(text, "decision at bot 2 → upstream call starts", p.DecisionToUpstreamStart);
        Row(text, "decision at bot 2 → its console API answered (then B is called)", p.DecisionToApproveAnswered);
        text.AppendLine();
        text.AppendLine($"Approvals/s: {p.Approvals:N0} approvals (distinct arguments), {p.Concurrency} concurrent requests per phase; created over both gateways, approved over both bots, collected on the other gateway; phases back to back.");
        text.AppendLine();
        text.AppendLine("| phase | wall s | per s | request p50 ms | request p99 ms | failures |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        void PhaseRow(string name, PairPhase phase) =>
            text.AppendLine($"| {name} | {phase.Seconds:F2} | {N(phase.PerSecond)} | {F(phase.PerRequest.P50)} | {F(phase.PerRequest.P99)} | {phase.Failures} |");
        PhaseRow("create: guarded call → \"pending\" (gateway A or B)", p.Create);
        PhaseRow($"approve: POST /api/approvals/{{id}}/approve (bot 1 or 2; {p.ApproveRetries} retries on 404)", p.Approve);
        PhaseRow($"redeem: identical call on the other gateway → result ({p.PollsPerRedeemUnderLoad:F2} calls per approval)", p.Redeem);
        text.AppendLine($"| **end to end: approvals created, decided and collected** | {p.EndToEndSeconds:F2} | **{N(p.EndToEndPerSecond)}** | | | {p.ThroughputFailures} |");
        text.AppendLine();
        text.AppendLine($"Upstream executions: {p.Executions:N0} for {p.Approvals:N0} approvals ({p.ExecutionsNotOnce} not exactly once).");
        text.AppendLine();
        verdicts.Add(("every approval redeemed on the other gateway returns its own result, run once (ha pair)",
            $"{p.Redeemed:N0} / {p.RedeemApprovals:N0}, executions {p.RedeemExecutions:N0}; p50 {F(p.DecisionToResult.P50)} ms, p99 {F(p.DecisionToResult.P99)} ms",
            p.RedeemFailures == 0 && p.Redeemed == p.RedeemApprovals && p.RedeemNotOnce == 0));
        verdicts.Add(("every approval of the concurrent run done once, no failures (ha pair)",
            $"{p.Approvals:N0} approvals, {p.ThroughputFailures} failures, {p.Executions:N0} executions; {N(p.EndToEndPerSecond)} approvals/s end to end",
            p.ThroughputFailures == 0 && p.Executions == p.Approvals && p.ExecutionsNotOnce == 0));
    }

    private static void AppendPolicy(StringBuilder text, JsonElement policy, List<(string, string, bool?)> verdicts)
    {
        text.AppendLine("### Policy evaluation (BenchmarkDotNet, in-process, [MemoryDiagnoser])");
        text.AppendLine();
        text.AppendLine("| case | rules | mean ns | allocated B/op |");
        text.AppendLine("|---|---:|---:|---:|");
        foreach (var row in policy.GetProperty("rows").EnumerateArray())
        {
            text.AppendLine($"| {row.GetProperty("case").GetString()} | {row.GetProperty("rules").GetInt32():N0} | {row.GetProperty("meanNs").GetDouble():F1} | {row.GetProperty("allocatedBytes").GetInt64()} |");
        }

        text.AppendLine();
        var at1000 = policy.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("rules").GetInt32() == 1000 && r.GetProperty("allowPath").GetBoolean()).ToList();
        if (at1000.Count > 0)
        {
            var worst = at1000.Max(r => r.GetProperty("meanNs").GetDouble());
            var allocated = at1000.Max(r => r.GetProperty("allocatedBytes").GetInt64());
            verdicts.Add(("policy decision ≤ 1 µs at 1,000 rules", $"worst allow case {worst:F0} ns", worst <= 1000));
            verdicts.Add(("zero allocations on the allow path (Evaluate)", $"{allocated} B/op", allocated == 0));
        }
    }

    private static void Row(StringBuilder text, string name, Latency latency) =>
        text.AppendLine($"| {name} | {latency.Count} | {F(latency.P50)} | {F(latency.P90)} | {F(latency.P99)} | {F(latency.Max)} |");

    private static T? Read<T>(string directory, string name)
    {
        var path = Path.Combine(directory, name + ".json");
        return File.Exists(path) ? JsonSerializer.Deserialize<T>(File.ReadAllText(path), BenchContext.Json) : default;
    }

    private static string F(double? value) => value is { } v && !double.IsNaN(v) ? v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F3", CultureInfo.InvariantCulture) : "–";

    private static string N(double? value) => value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "–";

    private static string Delta(double? value, double? baseline) =>
        value is { } v && baseline is { } b ? (v - b >= 0 ? "+" : "") + F(v - b) : "–";

    private static string Ratio(double? value, double? baseline) =>
        value is { } v && baseline is { } b && b > 0 ? (v / b).ToString("F2", CultureInfo.InvariantCulture) + "×" : "–";
}
