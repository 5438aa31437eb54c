using ApprovalBot.Bot.Status;
using Dapper;

namespace ApprovalBot.Bot.Storage;

/// <summary>Bot replicas' heartbeats in the shared store, for /policy status.</summary>
internal sealed partial class BotStore
{
    /// <summary>This replica is alive now (started at <paramref name="startedAt"/>).</summary>
    public async Task BeatAsync(DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            """
            INSERT INTO bot_replicas (instance, started_at, last_seen) VALUES (@Replica, @StartedAt, @Now)
            ON CONFLICT (instance) DO UPDATE SET started_at = excluded.started_at, last_seen = excluded.last_seen
            """,
            new { Replica, StartedAt = startedAt.ToUnixTimeMilliseconds(), Now = _time.GetUtcNow().ToUnixTimeMilliseconds() });
    }

    /// <summary>Replicas seen since <paramref name="since"/>, by instance id; those seen within <paramref name="offlineAfter"/> are online.</summary>
    public async Task<IReadOnlyList<BotReplicaStatus>> ListReplicasAsync(DateTimeOffset since, TimeSpan offlineAfter, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Instance, long StartedAt, long LastSeen)>(
            "SELECT instance, started_at, last_seen FROM bot_replicas WHERE last_seen >= @Since ORDER BY instance",
            new { Since = since.ToUnixTimeMilliseconds() });
        return rows.Select(r =>
        {
            var lastSeen = DateTimeOffset.FromUnixTimeMilliseconds(r.LastSeen);
            return new BotReplicaStatus(r.Instance, DateTimeOffset.FromUnixTimeMilliseconds(r.StartedAt), lastSeen, now - lastSeen <= offlineAfter, r.Instance == Replica);
        }).ToList();
    }

    /// <summary>Forgets replicas silent since before <paramref name="before"/> (replaced containers leave their ids behind).</summary>
    public async Task<int> ForgetReplicasAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync("DELETE FROM bot_replicas WHERE last_seen < @Before", new { Before = before.ToUnixTimeMilliseconds() });
    }
}
