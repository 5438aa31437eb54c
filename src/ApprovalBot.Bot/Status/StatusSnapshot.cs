using ApprovalBot.Bot.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Status;

/// <summary>Everything <c>/policy status</c> shows, whatever the channel renders it with.</summary>
public sealed record StatusSnapshot(
    IReadOnlyList<GatewayStatus> Gateways,
    IReadOnlyList<ApprovalView> Pending,
    int PendingTotal,
    TodayCounts Today,
    DateTimeOffset At);

/// <param name="Online">A heartbeat arrived within the last three intervals.</param>
public sealed record GatewayStatus(GatewayHeartbeat Heartbeat, DateTimeOffset LastSeen, bool Online);

/// <summary>Since midnight UTC. Human decisions come from the bot's read model, policy decisions from heartbeats.</summary>
public sealed record TodayCounts(int Approved, int Denied, int Expired, int Cancelled, int AutoAllowed, int DeniedByPolicy);

public interface IStatusReport
{
    /// <summary><paramref name="pendingLimit"/> caps the list; <see cref="StatusSnapshot.PendingTotal"/> still counts all.</summary>
    Task<StatusSnapshot> GetAsync(int pendingLimit, CancellationToken cancellationToken);
}
