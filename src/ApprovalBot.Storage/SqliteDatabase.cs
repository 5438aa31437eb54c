using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace ApprovalBot.Storage;

/// <summary>
/// One SQLite file with WAL and versioned migrations: what a single process uses, embedded.
/// </summary>
public sealed class SqliteDatabase : Database
{
    private readonly string _connectionString;

    public SqliteDatabase(string path)
    {
        Path = path;
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Pooling = true,
            DefaultTimeout = 30,
            Cache = SqliteCacheMode.Default,
        }.ToString();
    }

    public string Path { get; }

    public override StorageProvider Provider => StorageProvider.Sqlite;

    public override string Description => Path;

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // Per connection: wait for writers instead of failing, and keep WAL's cheaper fsync policy.
        await connection.ExecuteAsync("PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
        return connection;
    }

    protected override async Task MigrateCoreAsync(MigrationSet migrations, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await connection.ExecuteAsync("PRAGMA journal_mode = WAL;");
        await connection.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);");
        await SchemaVersions.ApplyAsync(connection, migrations.Sqlite, cancellationToken);
    }
}
