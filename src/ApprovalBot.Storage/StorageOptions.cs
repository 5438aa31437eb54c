namespace ApprovalBot.Storage;

public enum StorageProvider
{
    /// <summary>One file per process in its data directory: the default, nothing else to run.</summary>
    Sqlite,

    /// <summary>One shared database: any number of gateways and bots see the same approvals and cards.</summary>
    Postgres,
}

/// <summary>The <c>ApprovalBot:Storage</c> section.</summary>
public sealed record StorageOptions
{
    public const string SectionPath = "ApprovalBot:Storage";

    public StorageProvider Provider { get; init; } = StorageProvider.Sqlite;

    public PostgresOptions Postgres { get; init; } = new();

    public IEnumerable<string> Validate()
    {
        if (!Enum.IsDefined(Provider))
        {
            yield return $"{SectionPath}:Provider must be Sqlite or Postgres (got '{Provider}').";
        }

        if (Provider == StorageProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(Postgres.ConnectionString))
            {
                yield return $"{SectionPath}:Postgres:ConnectionString is required when {SectionPath}:Provider is Postgres.";
            }
            else if (PostgresDatabase.CheckConnectionString(Postgres.ConnectionString) is { } problem)
            {
                yield return $"{SectionPath}:Postgres:ConnectionString is not valid: {problem}";
            }
        }
    }
}

public sealed record PostgresOptions
{
    /// <summary>An Npgsql connection string (Host=…;Port=…;Database=…;Username=…;Password=…).</summary>
    public string? ConnectionString { get; init; }

    /// <summary>When set, the password (instead of one in the connection string): a secret kept in its own variable.</summary>
    public string? Password { get; init; }

    /// <summary>The connection string with <see cref="Password"/> applied.</summary>
    public string EffectiveConnectionString() =>
        string.IsNullOrEmpty(Password)
            ? ConnectionString ?? ""
            : new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Password = Password }.ConnectionString;
}
