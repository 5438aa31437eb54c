using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Status;

/// <summary>Everything <c>/policy status</c> shows, whatever the channel renders it with.</summary>
public sealed record StatusSnapshot(
    IReadOnlyList<GatewayStatus> Gateways,
    IReadOnlyList<ApprovalView> Pending,
    int PendingTotal,
    TodayCounts Today,
    DateTimeOffset At)
{
    /// <summary>Approved while nobody waited and not collected yet, the soonest to lapse first (capped like <see cref="Pending"/>).</summary>
    public IReadOnlyList<ApprovalView> AwaitingCollection { get; init; } = [];

    public int AwaitingCollectionTotal { get; init; }

    /// <summary>Active time-boxed grants, the soonest to end first (capped like <see cref="Pending"/>).</summary>
    public IReadOnlyList<GrantView> ActiveGrants { get; init; } = [];

    public int ActiveGrantsTotal { get; init; }

    /// <summary>The bot replicas sharing the store (PostgreSQL); empty with SQLite, where this bot is the only one.</summary>
    public IReadOnlyList<BotReplicaStatus> Bots { get; init; } = [];
}

/// <param name="Online">A heartbeat arrived within the last three intervals.</param>
public sealed record GatewayStatus(GatewayHeartbeat Heartbeat, DateTimeOffset LastSeen, bool Online);

/// <summary>Since midnight UTC. Human decisions come from the bot's read model, policy decisions from heartbeats.</summary>
/// <param name="Approved">Approved by people, including those that later lapsed.</param>
public sealed record TodayCounts(int Approved, int Denied, int Expired, int Cancelled, int AutoAllowed, int DeniedByPolicy)
{
    /// <summary>Of <see cref="Approved"/>: never collected by the agent, so nothing ran.</summary>
    public int Lapsed { get; init; }
}

public interface IStatusReport
{
    /// <summary><paramref name="pendingLimit"/> caps the list; <see cref="StatusSnapshot.PendingTotal"/> still counts all.</summary>
    Task<StatusSnapshot> GetAsync(int pendingLimit, CancellationToken cancellationToken);
}

/// <summary>A bot replica sharing the store (PostgreSQL), by its heartbeat there.</summary>
/// <param name="Online">Its heartbeat was written within the last three intervals.</param>
/// <param name="Self">The replica answering this status.</param>
public sealed record BotReplicaStatus(string Instance, DateTimeOffset StartedAt, DateTimeOffset LastSeen, bool Online, bool Self);
