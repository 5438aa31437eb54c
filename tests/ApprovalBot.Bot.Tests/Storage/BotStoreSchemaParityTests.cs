using ApprovalBot.Bot.Storage;
using ApprovalBot.Storage;
using ApprovalBot.Tests.Shared;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ApprovalBot.Bot.Tests.Storage;

/// <summary>Version N is the same schema on both providers: the same tables, columns, indexes and versions.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BotStoreSchemaParityTests(PostgresServer server) : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-parity-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_new_postgres_schema_has_the_tables_columns_indexes_and_versions_of_a_new_sqlite_file()
    {
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "bot.db");
        await new BotStore(path).MigrateAsync(CancellationToken.None);
        await using var postgres = new PostgresDatabase(await server.CreateDatabaseAsync(), "bot");
        var store = new BotStore(postgres);
        await store.MigrateAsync(CancellationToken.None);
        await store.MigrateAsync(CancellationToken.None); // idempotent

        await using var sqlite = new SqliteConnection($"Data Source={path};Pooling=False");
        var sqliteColumns = await sqlite.QueryAsync<string>(
            "SELECT m.name || '.' || p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'");
        var sqliteIndexes = await sqlite.QueryAsync<string>("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'");
        var sqliteVersions = await sqlite.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version");

        await using var pg = await postgres.OpenAsync(CancellationToken.None);
        var pgColumns = await pg.QueryAsync<string>("SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'bot'");
        var pgIndexes = await pg.QueryAsync<string>("SELECT indexname FROM pg_indexes WHERE schemaname = 'bot' AND indexname NOT LIKE '%_pkey'");
        var pgVersions = await pg.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version");

        Assert.Equal(sqliteColumns.Order(StringComparer.Ordinal), pgColumns.Order(StringComparer.Ordinal));
        Assert.Equal(sqliteIndexes.Order(StringComparer.Ordinal), pgIndexes.Order(StringComparer.Ordinal));
        Assert.Equal(sqliteVersions, pgVersions);
        // Milliseconds since 1970 outgrow 32 bits: every time column is BIGINT.
        Assert.Empty(await pg.QueryAsync<string>(
            "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'bot' AND (column_name LIKE '%\\_at' OR column_name IN ('collect_by', 'grant_until', 'last_seen')) AND data_type <> 'bigint' AND table_name <> 'schema_version'"));
    }
}
