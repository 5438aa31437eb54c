using System.Buffers.Binary;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;

namespace ApprovalBot.Storage;

/// <summary>
/// One schema of a shared PostgreSQL database (the gateway's and the bot's tables live side by side,
/// each under its own schema so their names never meet). Every replica opens the same schema;
/// migrations run under an advisory lock, so replicas starting together apply each version once.
/// </summary>
public sealed class PostgresDatabase : Database, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _adminConnectionString;

    public PostgresDatabase(string connectionString, string schema)
    {
        if (!IsIdentifier(schema))
        {
            throw new ArgumentException($"'{schema}' is not a plain lower-case schema name.", nameof(schema));
        }

        Schema = schema;
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        _adminConnectionString = builder.ConnectionString;
        // Unqualified names resolve to this store's schema: the stores' SQL stays the same on both providers.
        builder.SearchPath = schema;
        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
        Description = $"postgres://{builder.Host}:{builder.Port}/{builder.Database} schema {schema}";
    }

    public string Schema { get; }

    public override StorageProvider Provider => StorageProvider.Postgres;

    public override string Description { get; }

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);

    protected override async Task MigrateCoreAsync(MigrationSet migrations, CancellationToken cancellationToken)
    {
        // Not through the data source: the schema may not exist yet, and the lock belongs to this connection alone.
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync(cancellationToken);
        var key = LockKey(Schema);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition($"CREATE SCHEMA IF NOT EXISTS {Schema}", cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition($"SET search_path TO {Schema}", cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                cancellationToken: cancellationToken));
            await SchemaVersions.ApplyAsync(connection, migrations.Postgres, cancellationToken);
        }
        finally
        {
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key });
        }
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>Null when Npgsql can read the connection string, else why not (without echoing it: it holds a password).</summary>
    public static string? CheckConnectionString(string connectionString)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            return string.IsNullOrEmpty(builder.Host) ? "it names no Host." : null;
        }
        catch (ArgumentException e)
        {
            return e.Message.Split('\n')[0];
        }
    }

    /// <summary>A stable 64-bit advisory lock key per schema, so the gateway's and the bot's migrations do not wait for each other.</summary>
    private static long LockKey(string schema) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes("approvalbot-migrations:" + schema)));

    private static bool IsIdentifier(string name) =>
        name.Length is > 0 and <= 63 && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') && name[0] is >= 'a' and <= 'z';
}
