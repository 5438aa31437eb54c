using System.Diagnostics;

namespace ApprovalBot.Bench.Infrastructure;

/// <summary>Latency percentiles in milliseconds (nearest-rank).</summary>
public sealed record Latency(int Count, double P50, double P90, double P99, double Max, double Mean)
{
    public static readonly Latency Empty = new(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

    /// <summary>From <see cref="Stopwatch"/> tick durations.</summary>
    public static Latency FromTicks(IEnumerable<long> ticks) =>
        FromMilliseconds(ticks.Select(t => t * 1000.0 / Stopwatch.Frequency));

    public static Latency FromMilliseconds(IEnumerable<double> values)
    {
        var sorted = values.ToArray();
        if (sorted.Length == 0)
        {
            return Empty;
        }

        Array.Sort(sorted);
        return new Latency(sorted.Length, Rank(sorted, 0.50), Rank(sorted, 0.90), Rank(sorted, 0.99), sorted[^1], sorted.Average());
    }

    private static double Rank(double[] sorted, double p) =>
        sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>Monotonic time shared by every process on the machine (CLOCK_MONOTONIC on Linux).</summary>
public static class Clock
{
    public static long Now => Stopwatch.GetTimestamp();

    public static double Milliseconds(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;
}
