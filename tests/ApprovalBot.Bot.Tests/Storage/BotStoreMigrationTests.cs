using System.Text.Json;
using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ApprovalBot.Bot.Tests.Storage;

/// <summary>A bot database from before issue 10 (schema version 2) upgrades in place and keeps its approvals.</summary>
public sealed class BotStoreMigrationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-botstore-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_version_2_database_gains_the_new_columns_and_its_pending_approvals_count_as_agent_waiting()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "bot.db");
        var now = new DateTimeOffset(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
        var request = new ApprovalRequested(Guid.NewGuid(), "agentwork_cancel_task", "agentwork", "ci-bot", "{}", "d1", null, [], 1,
            now, now.AddMinutes(15), new Uri("loopback://localhost/gateway-1"), "gateway-1");
        await using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            // The schema as versions 1 and 2 shipped it.
            await connection.ExecuteAsync("""
                CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
                CREATE TABLE approvals (id TEXT PRIMARY KEY, request TEXT NOT NULL, tool TEXT NOT NULL, status TEXT NOT NULL,
                    requested_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, decided_by TEXT, comment TEXT, resolved_at INTEGER,
                    succeeded INTEGER, execution_summary TEXT);
                CREATE INDEX ix_approvals_status ON approvals (status, requested_at);
                CREATE INDEX ix_approvals_resolved ON approvals (resolved_at);
                CREATE TABLE cards (approval_id TEXT NOT NULL, channel TEXT NOT NULL, reference TEXT NOT NULL, PRIMARY KEY (approval_id, channel, reference));
                CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE INDEX ix_approvals_resolved_status ON approvals (resolved_at, status);
                INSERT INTO schema_version VALUES (1, 'read model and cards', '2025-01-01'), (2, 'status counts from an index', '2025-01-01');
                """);
            await connection.ExecuteAsync(
                "INSERT INTO approvals (id, request, tool, status, requested_at, expires_at) VALUES (@Id, @Request, 'agentwork_cancel_task', 'Pending', 1, 2)",
                new { Id = request.ApprovalId.ToString(), Request = JsonSerializer.Serialize(request) });
        }

        var store = new BotStore(path);
        await store.MigrateAsync(CancellationToken.None);
        await store.MigrateAsync(CancellationToken.None); // idempotent

        var view = (await store.GetAsync(request.ApprovalId, CancellationToken.None))!;
        Assert.Equal(ApprovalStatus.Pending, view.Status);
        Assert.True(view.AgentWaiting);
        Assert.Null(view.CollectBy);
        Assert.Equal(ReadModelChange.Changed, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, false, now), CancellationToken.None));
        Assert.False((await store.GetAsync(request.ApprovalId, CancellationToken.None))!.AgentWaiting);
        await using var check = new SqliteConnection($"Data Source={path}");
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], await check.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version"));
    }
}
