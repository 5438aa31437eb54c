using Dapper;
using Microsoft.Data.Sqlite;

namespace ApprovalBot.Gateway.Tests.Storage;

/// <summary>Databases built from the SQL fixtures of earlier schema versions, and the schema of a database as text.</summary>
public static class SchemaFixtures
{
    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", name);

    /// <summary>Creates <paramref name="databasePath"/> from a fixture's SQL (schema and rows of that version).</summary>
    public static async Task CreateAsync(string fixture, string databasePath)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        await connection.OpenAsync();
        await connection.ExecuteAsync(await File.ReadAllTextAsync(FixturePath(fixture)));
    }

    /// <summary>Every table, index and trigger with its SQL, whitespace collapsed: two databases with the same schema read the same.</summary>
    public static async Task<IReadOnlyList<string>> SchemaAsync(string databasePath)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        await connection.OpenAsync();
        var rows = await connection.QueryAsync<(string Type, string Name, string? Sql)>(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name");
        return rows.Select(r => $"{r.Type} {r.Name}: {string.Join(' ', (r.Sql ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))}").ToList();
    }

    public static async Task<IReadOnlyList<int>> VersionsAsync(string databasePath)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        await connection.OpenAsync();
        return (await connection.QueryAsync<int>("SELECT version FROM schema_version ORDER BY version")).ToList();
    }
}
