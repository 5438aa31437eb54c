using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ApprovalBot.Bot.Tests.Storage;

/// <summary>
/// A bot database of every earlier schema version (a SQL fixture per version: the scripts as they
/// shipped, rows as that version wrote them) upgrades in place, keeps its read model, cards and
/// settings, and ends with exactly the schema of a new database.
/// </summary>
public sealed class BotStoreUpgradeTests : IDisposable
{
    private static readonly DateTimeOffset Nine = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly Guid Pending = Guid.Parse("33333333-0000-0000-0000-000000000001");
    private static readonly Guid Executed = Guid.Parse("33333333-0000-0000-0000-000000000002");
    private static readonly Guid Denied = Guid.Parse("33333333-0000-0000-0000-000000000003");
    private static readonly Guid ApprovedNotRun = Guid.Parse("33333333-0000-0000-0000-000000000005");
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-botstore-" + Guid.NewGuid().ToString("N"));

    public BotStoreUpgradeTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", name);

    private static SqliteConnection Open(string path) => new($"Data Source={path};Pooling=False");

    private async Task<string> FromFixtureAsync(int version)
    {
        var path = Path.Combine(_directory, $"bot-v{version}.db");
        await using var connection = Open(path);
        await connection.ExecuteAsync(await File.ReadAllTextAsync(Fixture($"bot-v{version}.sql")));
        return path;
    }

    private static async Task<IReadOnlyList<string>> SchemaAsync(string path)
    {
        await using var connection = Open(path);
        var rows = await connection.QueryAsync<(string Type, string Name, string? Sql)>(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
        return rows.Select(r => $"{r.Type} {r.Name}: {string.Join(' ', (r.Sql ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))}").ToList();
    }

    private async Task<int> CurrentVersionAsync()
    {
        var fresh = Path.Combine(_directory, "fresh.db");
        await new BotStore(fresh).MigrateAsync(CancellationToken.None);
        await using var connection = Open(fresh);
        return await connection.ExecuteScalarAsync<int>("SELECT MAX(version) FROM schema_version");
    }

    [Fact]
    public async Task Every_earlier_schema_version_has_a_fixture()
    {
        // Adding migration N+1 means adding bot-vN.sql: the database as version N left it.
        var current = await CurrentVersionAsync();
        Assert.All(Enumerable.Range(1, current - 1), v => Assert.True(File.Exists(Fixture($"bot-v{v}.sql")), $"Storage/Fixtures/bot-v{v}.sql is missing"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    public async Task An_earlier_database_upgrades_to_exactly_the_schema_of_a_new_one(int version)
    {
        var path = await FromFixtureAsync(version);
        var current = await CurrentVersionAsync();

        await new BotStore(path).MigrateAsync(CancellationToken.None);
        await new BotStore(path).MigrateAsync(CancellationToken.None);

        await using (var connection = Open(path))
        {
            Assert.Equal(Enumerable.Range(1, current), await connection.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version"));
        }

        Assert.Equal(await SchemaAsync(Path.Combine(_directory, "fresh.db")), await SchemaAsync(path));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    public async Task An_earlier_database_keeps_its_approvals_cards_and_settings(int version)
    {
        var store = new BotStore(await FromFixtureAsync(version));

        await store.MigrateAsync(CancellationToken.None);

        var pending = (await store.GetAsync(Pending, CancellationToken.None))!;
        Assert.Equal((ApprovalStatus.Pending, "agentwork_cancel_task", "ci-bot", "gw-1"), (pending.Status, pending.Request.Tool, pending.Request.Agent, pending.Request.GatewayInstance));
        Assert.Equal(Nine.AddMinutes(10), pending.Request.ExpiresAt);
        // Rows from before "agent waiting" existed count as waiting: their calls were held then.
        Assert.True(pending.AgentWaiting);
        Assert.Null(pending.CollectBy);
        var executed = (await store.GetAsync(Executed, CancellationToken.None))!;
        Assert.Equal((ApprovalStatus.Approved, true, "Task T-101 cancelled."), (executed.Status, executed.Succeeded, executed.ExecutionSummary));
        Assert.Equal(new Approver("slack", "UALICE", "Alice", "T1"), executed.DecidedBy);
        var denied = (await store.GetAsync(Denied, CancellationToken.None))!;
        Assert.Equal((ApprovalStatus.Denied, "not during the release", Nine.AddSeconds(200)), (denied.Status, denied.Comment, denied.ResolvedAt));

        Assert.Equal(["C0APPROVALS:1780304400.000100"], await store.GetAsync(Pending, "slack", CancellationToken.None));
        Assert.Equal(["conv-1|act-1"], await store.GetAsync(Pending, "teams", CancellationToken.None));
        Assert.Equal("""{"id":"conv-1"}""", await store.GetSettingAsync("teams.conversation", CancellationToken.None));
        Assert.Equal(1, await store.CountAsync(ApprovalStatus.Pending, CancellationToken.None));
        var today = await store.CountResolvedSinceAsync(Nine, CancellationToken.None);
        Assert.Equal((2, 1, 1), (today["Approved"], today["Denied"], today["Expired"]));
        // No old row has a collect-by: nothing is listed as awaiting collection.
        Assert.Empty(await store.ListAwaitingCollectionAsync(10, CancellationToken.None));

        // The new messages work on old rows: waiting, lapsing (approved, never run), and the lapse is once.
        Assert.Equal(ReadModelChange.Changed, await store.RecordWaitingAsync(new ApprovalWaiting(Pending, false, Nine.AddMinutes(1)), CancellationToken.None));
        Assert.Equal(ReadModelChange.Changed, await store.RecordLapsedAsync(new ApprovalLapsed(ApprovedNotRun, Nine.AddMinutes(40)), CancellationToken.None));
        Assert.Equal(ReadModelChange.Unchanged, await store.RecordLapsedAsync(new ApprovalLapsed(Executed, Nine.AddMinutes(40)), CancellationToken.None));
        Assert.Equal(ApprovalStatus.Lapsed, (await store.GetAsync(ApprovedNotRun, CancellationToken.None))!.Status);
    }
}
