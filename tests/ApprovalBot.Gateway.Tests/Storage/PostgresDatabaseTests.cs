using ApprovalBot.Storage;
using ApprovalBot.Tests.Shared;
using Dapper;

namespace ApprovalBot.Gateway.Tests.Storage;

[Collection(PostgresCollection.Name)]
public sealed class PostgresDatabaseTests(PostgresServer server)
{
    private static readonly MigrationSet Schema = new(
        [new Migration(1, "one", "CREATE TABLE things (id TEXT PRIMARY KEY)")],
        [new Migration(1, "one", "CREATE TABLE things (id TEXT PRIMARY KEY)"), new Migration(2, "two", "ALTER TABLE things ADD COLUMN n BIGINT")]);

    [Fact]
    public async Task Replicas_migrating_together_apply_each_version_once_in_their_own_schema()
    {
        var connectionString = await server.CreateDatabaseAsync();
        var replicas = Enumerable.Range(0, 4).Select(_ => new PostgresDatabase(connectionString, "gateway")).ToList();

        await Task.WhenAll(replicas.Select(r => r.MigrateAsync(Schema, CancellationToken.None)));

        await using var connection = await replicas[0].OpenAsync(CancellationToken.None);
        Assert.Equal([1, 2], (await connection.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version")).ToList());
        Assert.Equal("gateway", await connection.ExecuteScalarAsync<string>("SELECT table_schema FROM information_schema.tables WHERE table_name = 'things'"));
        await connection.ExecuteAsync("INSERT INTO things (id, n) VALUES ('a', 5000000000)");
        Assert.Equal(5_000_000_000L, await connection.ExecuteScalarAsync<long>("SELECT n FROM things"));

        // Another store's schema in the same database does not see these tables.
        var bot = new PostgresDatabase(connectionString, "bot");
        await bot.MigrateAsync(new MigrationSet([], []), CancellationToken.None);
        await using var botConnection = await bot.OpenAsync(CancellationToken.None);
        Assert.Equal(0, await botConnection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM schema_version"));
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        await bot.DisposeAsync();
    }

    [Fact]
    public async Task A_database_newer_than_the_release_is_refused()
    {
        var connectionString = await server.CreateDatabaseAsync();
        await using var database = new PostgresDatabase(connectionString, "gateway");
        await database.MigrateAsync(Schema, CancellationToken.None);

        var older = new MigrationSet([], [Schema.Postgres[0]]);
        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => database.MigrateAsync(older, CancellationToken.None));
        Assert.Contains("schema version 2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=;Database=x", "no Host")]
    [InlineData("Hots=db;Password=hunter2-secret", "")]
    public void A_bad_connection_string_is_named_without_its_password(string connectionString, string expected)
    {
        var problem = PostgresDatabase.CheckConnectionString(connectionString);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", problem, StringComparison.Ordinal);
    }
}
