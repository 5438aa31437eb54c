using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Storage;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Storage;
using ApprovalBot.Tests.Shared;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Bot.Tests.Status;

/// <summary>
/// /policy status names the bot replicas sharing a PostgreSQL store, from their heartbeats there,
/// whichever replica answers; with SQLite (one bot) it says what it always said.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class BotReplicaStatusTests(PostgresServer server) : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 10, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _time = new(Now);
    private readonly List<PostgresDatabase> _databases = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-replicas-" + Guid.NewGuid().ToString("N"));
    private string _connectionString = "";

    public async Task InitializeAsync() => _connectionString = await server.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task<BotStore> ReplicaAsync(string instance)
    {
        var database = new PostgresDatabase(_connectionString, "bot");
        _databases.Add(database);
        var store = new BotStore(database, instance, _time);
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task Any_replica_lists_every_replica_alive_or_not_in_slack_and_teams()
    {
        var one = await ReplicaAsync("bot-a");
        var two = await ReplicaAsync("bot-b");
        await one.BeatAsync(Now.AddMinutes(-5), CancellationToken.None);
        await two.BeatAsync(Now.AddMinutes(-5), CancellationToken.None);
        _time.Advance(BotReplicaHeartbeat.OfflineAfter + TimeSpan.FromSeconds(5));
        await two.BeatAsync(Now.AddMinutes(-5), CancellationToken.None); // bot-a stopped beating

        var snapshot = await new StatusReport(two, new HeartbeatTracker(_time), _time).GetAsync(10, CancellationToken.None);

        Assert.Equal([("bot-a", false, false), ("bot-b", true, true)], snapshot.Bots.Select(b => (b.Instance, b.Online, b.Self)));
        var slack = SlackStatusMessage.Build(snapshot, pendingOnly: false)["text"]!.GetValue<string>();
        Assert.Contains("*Bots* — 1 online of 2", slack, StringComparison.Ordinal);
        Assert.Contains("*bot-b* (answering)", slack, StringComparison.Ordinal);
        Assert.Contains(":red_circle: offline, *bot-a*", slack, StringComparison.Ordinal);
        var teams = System.Text.RegularExpressions.Regex.Unescape(TeamsStatusCard.Status(snapshot).ToJsonString());
        Assert.Contains("bot-b (answering) — online", teams, StringComparison.Ordinal);
        Assert.Contains("bot-a — offline", teams, StringComparison.Ordinal);
        Assert.Contains("1 bot(s) online", teams, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_heartbeat_service_writes_this_replica_under_postgres_and_nothing_under_sqlite()
    {
        var store = await ReplicaAsync("bot-a");
        var service = new BotReplicaHeartbeat(store, _time, NullLogger<BotReplicaHeartbeat>.Instance);
        await service.StartAsync(CancellationToken.None);
        IReadOnlyList<BotReplicaStatus> listed = [];
        for (var attempt = 0; attempt < 500 && listed.Count == 0; attempt++)
        {
            listed = await store.ListReplicasAsync(Now.AddHours(-1), BotReplicaHeartbeat.OfflineAfter, CancellationToken.None);
            if (listed.Count == 0)
            {
                await Task.Delay(20);
            }
        }

        await service.StopAsync(CancellationToken.None);
        Assert.Equal([("bot-a", true, Now)], listed.Select(b => (b.Instance, b.Online, b.StartedAt)));

        // SQLite: one bot, no heartbeat rows, and the status reads as it always did.
        Directory.CreateDirectory(_directory);
        var sqlite = new BotStore(new SqliteDatabase(Path.Combine(_directory, "bot.db")), "bot-a", _time);
        await sqlite.MigrateAsync(CancellationToken.None);
        var local = new BotReplicaHeartbeat(sqlite, _time, NullLogger<BotReplicaHeartbeat>.Instance);
        await local.StartAsync(CancellationToken.None);
        await local.ExecuteTask!;
        Assert.Empty(await sqlite.ListReplicasAsync(Now.AddHours(-1), BotReplicaHeartbeat.OfflineAfter, CancellationToken.None));
        var snapshot = await new StatusReport(sqlite, new HeartbeatTracker(_time), _time).GetAsync(10, CancellationToken.None);
        Assert.Empty(snapshot.Bots);
        Assert.DoesNotContain("Bots", SlackStatusMessage.Build(snapshot, pendingOnly: false)["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain("Bots", TeamsStatusCard.Status(snapshot).ToJsonString(), StringComparison.Ordinal);
    }
}
