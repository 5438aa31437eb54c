using Npgsql;

namespace ApprovalBot.Tests.Shared;

/// <summary>
/// A real PostgreSQL cluster on loopback, started by scripts/postgres-test.sh (which installs Debian's
/// postgresql when absent). Shared by a test run; every test asks for a database of its own.
/// Compiled into each test project that needs it (linked source, one file).
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    public int Port { get; private set; }

    public async Task InitializeAsync() => Port = RepoScripts.Port(await RepoScripts.RunAsync("postgres-test.sh", "start"), "postgres-test.sh");

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A new, empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Database = database,
            Username = "approvalbot",
            Password = "approvalbot",
            // Tests open many short-lived data sources: keep each pool small.
            MaxPoolSize = 20,
        }.ConnectionString;
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "postgres";
}
