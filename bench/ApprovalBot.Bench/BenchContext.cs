using System.Text.Json;
using System.Text.Json.Serialization;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench;

/// <summary>What every scenario shares: the run's sizes, folders, broker, HTTP client and the list of failures.</summary>
public sealed class BenchContext : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly List<string> _failures = [];

    public BenchContext(bool smoke, string resultsDirectory, int? rabbitMqPort, string rabbitMqVirtualHost, int? postgresPort = null)
    {
        PostgresPort = postgresPort;
        Smoke = smoke;
        ResultsDirectory = resultsDirectory;
        RabbitMqPort = rabbitMqPort;
        RabbitMqVirtualHost = rabbitMqVirtualHost;
        WorkDirectory = Path.Combine(Path.GetTempPath(), "approvalbot-bench", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss") + "-" + Environment.ProcessId);
        LogDirectory = Path.Combine(WorkDirectory, "logs");
        Directory.CreateDirectory(LogDirectory);
        Directory.CreateDirectory(ResultsDirectory);
    }

    public bool Smoke { get; }

    public string ResultsDirectory { get; }

    public int? RabbitMqPort { get; }

    public string RabbitMqVirtualHost { get; }

    /// <summary>The throw-away PostgreSQL cluster of scripts/postgres-test.sh (superuser approvalbot, trust on loopback).</summary>
    public int? PostgresPort { get; }

    public string WorkDirectory { get; }

    public string LogDirectory { get; }

    public HttpClient Http { get; } = McpSession.CreateHttpClient();

    public IReadOnlyList<string> Failures => _failures;

    public void Fail(string what)
    {
        lock (_failures)
        {
            _failures.Add(what);
        }

        Console.Error.WriteLine("FAILED: " + what);
    }

    public void Log(string line) => Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] {line}");

    public string NewDirectory(string name)
    {
        var path = Path.Combine(WorkDirectory, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public async Task WriteResultAsync<T>(string name, T result)
    {
        var path = Path.Combine(ResultsDirectory, name + ".json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(result, Json));
        Log($"wrote {Path.GetRelativePath(BenchPaths.Root, path)}");
    }

    public ValueTask DisposeAsync()
    {
        Http.Dispose();
        return ValueTask.CompletedTask;
    }
}
