using System.Collections.Concurrent;
using ApprovalBot.Core.Contracts;
using MassTransit;

namespace ApprovalBot.Bot.Status;

/// <summary>The latest heartbeat of every gateway this bot has heard from (each bot hears all of them).</summary>
public sealed class HeartbeatTracker(TimeProvider time) : IConsumer<GatewayHeartbeat>
{
    private readonly ConcurrentDictionary<string, (GatewayHeartbeat Heartbeat, DateTimeOffset ReceivedAt)> _latest = new(StringComparer.Ordinal);

    /// <summary>Three missed beats: a gateway (or bot replica) silent for longer than this is shown offline.</summary>
    public static readonly TimeSpan DefaultOfflineAfter = TimeSpan.FromSeconds(35);

    /// <summary>A gateway silent for longer than this is shown offline.</summary>
    public TimeSpan OfflineAfter { get; init; } = DefaultOfflineAfter;

    public Task Consume(ConsumeContext<GatewayHeartbeat> context)
    {
        Record(context.Message);
        return Task.CompletedTask;
    }

    public void Record(GatewayHeartbeat heartbeat) =>
        _latest.AddOrUpdate(heartbeat.Instance, (heartbeat, time.GetUtcNow()), (_, old) => old.Heartbeat.SentAt > heartbeat.SentAt ? old : (heartbeat, time.GetUtcNow()));

    public IReadOnlyList<GatewayStatus> Snapshot()
    {
        var now = time.GetUtcNow();
        return _latest.Values
            .OrderBy(v => v.Heartbeat.Instance, StringComparer.Ordinal)
            .Select(v => new GatewayStatus(v.Heartbeat, v.ReceivedAt, now - v.ReceivedAt <= OfflineAfter))
            .ToList();
    }
}
