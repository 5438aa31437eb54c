using System.Data.Common;
using Dapper;

namespace ApprovalBot.Storage;

/// <summary>The <c>schema_version</c> bookkeeping both providers share: each missing version in its own transaction.</summary>
internal static class SchemaVersions
{
    public static async Task ApplyAsync(DbConnection connection, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var applied = (await connection.QueryAsync<int>("SELECT version FROM schema_version")).ToHashSet();
        var newest = applied.Count == 0 ? 0 : applied.Max();
        var known = migrations.Count == 0 ? 0 : migrations.Max(m => m.Version);
        if (newest > known)
        {
            // A newer release migrated this database: running old code on it could undo what the new one relies on.
            throw new StorageUnavailableException(
                $"The database is at schema version {newest}, newer than this release knows ({known}); run the newer release or restore a backup.");
        }

        foreach (var migration in migrations.OrderBy(m => m.Version))
        {
            if (applied.Contains(migration.Version))
            {
                continue;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await connection.ExecuteAsync(migration.Sql, transaction: transaction);
            await connection.ExecuteAsync(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (@Version, @Name, @At)",
                new { migration.Version, migration.Name, At = TimeProvider.System.GetUtcNow().ToString("O") },
                transaction);
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
