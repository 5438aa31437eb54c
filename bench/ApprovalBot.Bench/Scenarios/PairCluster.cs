using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ApprovalBot.Bench.Infrastructure;
using Npgsql;

namespace ApprovalBot.Bench.Scenarios;

/// <summary>
/// The high-availability pair: two gateway processes and two bot processes on one PostgreSQL database
/// (created fresh for the run) and the bench's RabbitMQ virtual host, in front of one bench upstream
/// (so its <c>/stamps</c> counts every execution, whichever gateway ran it). Each replica has its own
/// instance id and data directory; all share the connection string and the admin token, as
/// tests/ApprovalBot.EndToEnd.Tests/HighAvailabilityTests.cs runs them. Same policy as <see cref="ApprovalCluster"/>.
/// </summary>
public sealed class PairCluster : IAsyncDisposable
{
    /// <summary>Npgsql's pool per replica process: four processes stay inside the test cluster's max_connections (300).</summary>
    public const int PoolPerProcess = 50;

    private readonly string _adminConnectionString;
    private readonly string _database;

    private PairCluster(
        string adminConnectionString, string database, ChildProcess upstream, Uri upstreamUrl,
        (ChildProcess Process, Uri Url)[] gateways, (ChildProcess Process, Uri Url)[] bots)
    {
        _adminConnectionString = adminConnectionString;
        _database = database;
        Upstream = upstream;
        UpstreamUrl = upstreamUrl;
        Gateways = gateways.Select(g => g.Process).ToArray();
        McpUrls = gateways.Select(g => new Uri(g.Url, "/mcp")).ToArray();
        Bots = bots.Select(b => b.Process).ToArray();
        Consoles = bots.Select(b =>
        {
            var console = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 }) { BaseAddress = b.Url, Timeout = TimeSpan.FromSeconds(60) };
            console.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Targets.AdminToken);
            return console;
        }).ToArray();
        StampsClient = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(60) };
    }

    public ChildProcess Upstream { get; }

    /// <summary>The upstream's MCP endpoint.</summary>
    public Uri UpstreamUrl { get; }

    /// <summary>Gateway A and gateway B.</summary>
    public IReadOnlyList<ChildProcess> Gateways { get; }

    public IReadOnlyList<Uri> McpUrls { get; }

    /// <summary>Bot 1 and bot 2.</summary>
    public IReadOnlyList<ChildProcess> Bots { get; }

    /// <summary>Each bot's console API, as the admin.</summary>
    public IReadOnlyList<HttpClient> Consoles { get; }

    private HttpClient StampsClient { get; }

    public static async Task<PairCluster> StartAsync(BenchContext context)
    {
        var port = context.PostgresPort ?? throw new InvalidOperationException("the ha pair needs PostgreSQL: pass --postgres-port (bench/run.sh does)");
        var suffix = Targets.RandomSuffix();
        var database = "bench_" + suffix;
        var admin = ConnectionString(port, "postgres", 2);
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {database}", connection);
            await command.ExecuteNonQueryAsync();
        }

        var shared = ConnectionString(port, database, PoolPerProcess);
        context.Log($"ha pair: database {database} on 127.0.0.1:{port}");
        var started = Clock.Now;
        var (upstream, upstreamUrl) = await Targets.StartBenchUpstreamAsync(context, "pair-upstream");
        string[] common =
        [
            .. Targets.RabbitMq(context),
            "--ApprovalBot:Storage:Provider=Postgres",
            $"--ApprovalBot:Storage:Postgres:ConnectionString={shared}",
        ];

        // Both gateways at once, then both bots at once: the migrations are serialised by their advisory lock.
        var gateways = await Task.WhenAll(new[] { "a", "b" }.Select(name => Targets.StartApprovalBotAsync(context, "pair-gateway-" + name, ApprovalCluster.Policy,
        [
            "--ApprovalBot:Role=gateway",
            .. common,
            $"--ApprovalBot:Gateway:InstanceId=bench-pair-gw-{name}-{suffix}",
            "--ApprovalBot:Gateway:AllowAnonymous=true",
            "--ApprovalBot:Gateway:Upstreams:agentwork:Enabled=false",
            $"--ApprovalBot:Gateway:Upstreams:bench:Url={upstreamUrl}",
            "--ApprovalBot:Gateway:Upstreams:bench:Prefix=",
            "--ApprovalBot:Approvals:MaxPendingPerAgent=1000000",
            "--ApprovalBot:Approvals:DefaultTimeout=01:00:00",
            "--ApprovalBot:Approvals:ProgressInterval=01:00:00",
        ])));
        var bots = await Task.WhenAll(new[] { "1", "2" }.Select(name => Targets.StartApprovalBotAsync(context, "pair-bot-" + name, ApprovalCluster.Policy,
        [
            "--ApprovalBot:Role=bot",
            .. common,
            $"--ApprovalBot:Bus:BotInstanceId=bench-pair-bot-{name}-{suffix}",
        ])));
        context.Log($"ha pair: upstream, gateways A and B, bots 1 and 2 ready in {Clock.Milliseconds(started, Clock.Now) / 1000:F1} s");
        return new PairCluster(admin, database, upstream, upstreamUrl, gateways, bots);
    }

    /// <summary>POST approve at bot <paramref name="bot"/> (0 or 1); true on 200. 404 (that bot has not heard of it yet) is retried for a while.</summary>
    public Task<(bool Ok, int Retries, string Answer)> ApproveAsync(int bot, Guid id, TimeSpan patience) => ApprovalCluster.ApproveAtAsync(Consoles[bot], id, patience);

    /// <summary>The ids bot <paramref name="bot"/> lists as pending (at most 1,000).</summary>
    public async Task<HashSet<Guid>> PendingAtBotAsync(int bot)
    {
        var list = await Consoles[bot].GetFromJsonAsync<JsonElement[]>("/api/approvals?status=pending&limit=1000") ?? [];
        return list.Select(a => a.GetProperty("id").GetGuid()).ToHashSet();
    }

    /// <summary>How many times the upstream ran stamp / stamp_later per n, for every n starting with <paramref name="prefix"/>.</summary>
    public async Task<Dictionary<string, int>> ExecutionsAsync(string prefix) =>
        await StampsClient.GetFromJsonAsync<Dictionary<string, int>>(new Uri(UpstreamUrl, "/stamps?prefix=" + Uri.EscapeDataString(prefix)))
        ?? throw new InvalidOperationException("the upstream's /stamps answered nothing");

    public async ValueTask DisposeAsync()
    {
        foreach (var console in Consoles)
        {
            console.Dispose();
        }

        StampsClient.Dispose();
        await Task.WhenAll(Bots.Concat(Gateways).Select(p => p.DisposeAsync().AsTask()));
        await Upstream.DisposeAsync();

        // Best effort: leave a shared cluster (scripts/test.sh's) as it was.
        try
        {
            await using var connection = new NpgsqlConnection(_adminConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)", connection);
            await command.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // The cluster is throw-away anyway.
        }
    }

    private static string ConnectionString(int port, string database, int pool) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Database = database,
            Username = "approvalbot",
            Password = "approvalbot",
            MaxPoolSize = pool,
        }.ConnectionString;
}
