using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ApprovalBot.Gateway.Telemetry;

/// <summary>
/// The gateway's metrics and traces, on .NET's own Meter and ActivitySource so the gateway needs no
/// exporter; the executable wires OpenTelemetry (Prometheus, OTLP) to these names.
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "ApprovalBot.Gateway";

    private readonly Meter _meter;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _overhead;
    private readonly Histogram<double> _upstream;
    private readonly Histogram<double> _timeToDecision;
    private int _pending;

    public GatewayTelemetry(IMeterFactory meters, Func<int> parked)
    {
        _meter = meters.Create(Name);
        _calls = _meter.CreateCounter<long>("approvalbot.calls", "{call}", "tools/call decisions, by decision and tool");
        _overhead = _meter.CreateHistogram<double>("approvalbot.proxy.overhead", "ms", "Time a forwarded call spent in the gateway itself (total minus upstream)");
        _upstream = _meter.CreateHistogram<double>("approvalbot.upstream.duration", "ms", "Time the upstream took to answer a tools/call");
        _timeToDecision = _meter.CreateHistogram<double>("approvalbot.approval.time_to_decision", "s", "From approval requested to its end state");
        _meter.CreateObservableGauge("approvalbot.approvals.pending", () => Volatile.Read(ref _pending), "{approval}", "Pending approvals in this gateway's database (as of the last heartbeat)");
        _meter.CreateObservableGauge("approvalbot.approvals.parked_calls", parked, "{approval}", "Approvals with calls held open in this process");
    }

    public static ActivitySource Traces { get; } = new(Name);

    public void CallDecided(string decision, string? tool) =>
        _calls.Add(1, new KeyValuePair<string, object?>("decision", decision), new KeyValuePair<string, object?>("tool", tool ?? "(none)"));

    public void Forwarded(string upstream, double totalMs, double upstreamMs)
    {
        _upstream.Record(upstreamMs, new KeyValuePair<string, object?>("upstream", upstream));
        _overhead.Record(Math.Max(0, totalMs - upstreamMs));
    }

    public void Resolved(string status, TimeSpan sinceRequested) =>
        _timeToDecision.Record(sinceRequested.TotalSeconds, new KeyValuePair<string, object?>("status", status));

    public void PendingCount(int pending) => Volatile.Write(ref _pending, pending);

    public void Dispose() => _meter.Dispose();
}
