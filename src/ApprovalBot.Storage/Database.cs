using System.Data.Common;

namespace ApprovalBot.Storage;

/// <summary>The store cannot be used at all (unreachable, refused, migrated by a newer release): nothing can start on it.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : InvalidOperationException(message, inner);

/// <summary>A versioned SQL migration: applied once, in order, inside a transaction.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// A store's schema for both providers. The versions are the same on both sides (version N is the
/// same schema whichever provider runs it); only the SQL differs where the dialects do.
/// </summary>
public sealed record MigrationSet(IReadOnlyList<Migration> Sqlite, IReadOnlyList<Migration> Postgres);

/// <summary>
/// Where a store keeps its rows: one SQLite file, or one schema of a shared PostgreSQL database.
/// Stores write the SQL both understand; <see cref="Provider"/> picks the few statements that differ.
/// </summary>
public abstract class Database
{
    public abstract StorageProvider Provider { get; }

    /// <summary>Every replica (gateway or bot) opens these same rows: what replica coordination keys on, not the SQL dialect.</summary>
    public bool SharedByReplicas => Provider == StorageProvider.Postgres;

    /// <summary>For logs and errors: the file, or host/database/schema (never the password).</summary>
    public abstract string Description { get; }

    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Applies the migrations not yet applied; with PostgreSQL, one instance at a time. A database that
    /// cannot be reached or is not one this release can use ends in <see cref="StorageUnavailableException"/>,
    /// which names it (never its password): the process refuses to start with that sentence.
    /// </summary>
    public async Task MigrateAsync(MigrationSet migrations, CancellationToken cancellationToken)
    {
        try
        {
            await MigrateCoreAsync(migrations, cancellationToken);
        }
        catch (Exception e) when (e is DbException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new StorageUnavailableException($"the database {Description} cannot be used: {e.Message}", e);
        }
    }

    protected abstract Task MigrateCoreAsync(MigrationSet migrations, CancellationToken cancellationToken);

    /// <summary>
    /// The database a store uses under the configured provider: with SQLite the file at
    /// <paramref name="sqlitePath"/>, with PostgreSQL the schema <paramref name="schema"/>.
    /// </summary>
    public static Database Create(StorageOptions options, string sqlitePath, string schema) =>
        options.Provider == StorageProvider.Postgres
            ? new PostgresDatabase(options.Postgres.EffectiveConnectionString(), schema)
            : new SqliteDatabase(sqlitePath);
}
