using System.Diagnostics;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench.Scenarios;

/// <summary>One measured load: a target, a tool, a concurrency.</summary>
public sealed record LoadRun(string Target, string Tool, int Concurrency, int Calls, int Errors, double Seconds, double CallsPerSecond, Latency Latency, string? FirstError);

/// <summary>
/// Closed-loop load with the same client for every target: <c>concurrency</c> workers, each with
/// its own MCP session, each sending the next call as soon as the last one answered.
/// </summary>
public static class LoadRunner
{
    public static async Task<LoadRun> RunAsync(
        HttpClient http, string target, Uri url, string tool, string argumentsJson, string expectText,
        int concurrency, int warmupCalls, int measuredCalls, TimeSpan warmup, TimeSpan duration)
    {
        var sessions = new McpSession[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            sessions[i] = await McpSession.OpenAsync(http, url);
        }

        try
        {
            // The first call also checks that this target answers what the tool should.
            var first = await sessions[0].CallToolAsync(tool, argumentsJson);
            if (McpSession.IsError(first) || !McpSession.Text(first).Contains(expectText, StringComparison.Ordinal))
            {
                throw new McpCallException($"{target} {tool}: unexpected answer {first.GetRawText()}");
            }

            if (concurrency == 1)
            {
                return await SequentialAsync(sessions[0], target, tool, argumentsJson, warmupCalls, measuredCalls);
            }

            return await ConcurrentAsync(sessions, target, tool, argumentsJson, warmup, duration);
        }
        finally
        {
            await Task.WhenAll(sessions.Select(s => s.DisposeAsync().AsTask()));
        }
    }

    private static async Task<LoadRun> SequentialAsync(McpSession session, string target, string tool, string argumentsJson, int warmupCalls, int measuredCalls)
    {
        var errors = 0;
        string? firstError = null;
        for (var i = 0; i < warmupCalls; i++)
        {
            await CallAsync(session, tool, argumentsJson);
        }

        var ticks = new long[measuredCalls];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < measuredCalls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var error = await CallAsync(session, tool, argumentsJson);
            ticks[i] = Stopwatch.GetTimestamp() - started;
            if (error is not null)
            {
                errors++;
                firstError ??= error;
            }
        }

        var seconds = clock.Elapsed.TotalSeconds;
        return new LoadRun(target, tool, 1, measuredCalls, errors, seconds, measuredCalls / seconds, Latency.FromTicks(ticks), firstError);
    }

    private static async Task<LoadRun> ConcurrentAsync(McpSession[] sessions, string target, string tool, string argumentsJson, TimeSpan warmup, TimeSpan duration)
    {
        var errors = 0;
        string? firstError = null;
        var perWorker = new List<long>[sessions.Length];
        long measureFrom = 0, measureUntil = 0;
        var start = Stopwatch.GetTimestamp();
        measureFrom = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        measureUntil = measureFrom + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        var workers = sessions.Select((session, index) => Task.Run(async () =>
        {
            var mine = perWorker[index] = new List<long>(4096);
            while (true)
            {
                var started = Stopwatch.GetTimestamp();
                if (started >= measureUntil)
                {
                    return;
                }

                var error = await CallAsync(session, tool, argumentsJson);
                var ended = Stopwatch.GetTimestamp();
                // A call counts when it started inside the window.
                if (started >= measureFrom)
                {
                    mine.Add(ended - started);
                    if (error is not null)
                    {
                        Interlocked.Increment(ref errors);
                        Interlocked.CompareExchange(ref firstError, error, null);
                    }
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var all = perWorker.SelectMany(w => w).ToArray();
        var seconds = duration.TotalSeconds;
        return new LoadRun(target, tool, sessions.Length, all.Length, errors, seconds, all.Length / seconds, Latency.FromTicks(all), firstError);
    }

    /// <summary>One call; null when it succeeded, else what went wrong.</summary>
    private static async Task<string?> CallAsync(McpSession session, string tool, string argumentsJson)
    {
        try
        {
            var result = await session.CallToolAsync(tool, argumentsJson);
            return McpSession.IsError(result) ? "isError: " + McpSession.Text(result) : null;
        }
        catch (Exception e) when (e is McpCallException or HttpRequestException or IOException)
        {
            return e.Message;
        }
    }
}
