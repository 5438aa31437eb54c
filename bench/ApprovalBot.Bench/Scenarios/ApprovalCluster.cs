using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ApprovalBot.Bench.Infrastructure;

namespace ApprovalBot.Bench.Scenarios;

/// <summary>
/// A gateway process and a bot process on RabbitMQ (loopback), in front of the bench upstream,
/// with <c>stamp</c> guarded by <c>require_approval</c>. Shared by the round-trip and parked-call scenarios.
/// </summary>
public sealed partial class ApprovalCluster : IAsyncDisposable
{
    public const string Policy = """
        {
          "version": "1",
          "default": "deny",
          "rules": {
            "stamp": { "action": "require_approval", "reason": "benchmark", "timeout": "1h" },
            "stamp_later": { "action": "require_approval", "reason": "benchmark", "timeout": "1h", "wait": "retry" },
            "ping": { "action": "allow" }
          }
        }
        """;

    private ApprovalCluster(ChildProcess upstream, ChildProcess gateway, Uri gatewayUrl, ChildProcess bot, Uri botUrl)
    {
        Upstream = upstream;
        Gateway = gateway;
        GatewayUrl = gatewayUrl;
        Bot = bot;
        BotUrl = botUrl;
        Console = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 64 }) { BaseAddress = botUrl, Timeout = TimeSpan.FromSeconds(60) };
        Console.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Targets.AdminToken);
    }

    public ChildProcess Upstream { get; }
    public ChildProcess Gateway { get; }
    public Uri GatewayUrl { get; }
    public Uri McpUrl => new(GatewayUrl, "/mcp");
    public ChildProcess Bot { get; }
    public Uri BotUrl { get; }

    /// <summary>The console API of the bot, as the admin.</summary>
    public HttpClient Console { get; }

    public static async Task<ApprovalCluster> StartAsync(BenchContext context)
    {
        var suffix = Targets.RandomSuffix();
        var (upstream, upstreamUrl) = await Targets.StartBenchUpstreamAsync(context, "approvals-upstream");
        var (gateway, gatewayUrl) = await Targets.StartApprovalBotAsync(context, "approvals-gateway", Policy,
        [
            "--ApprovalBot:Role=gateway",
            .. Targets.RabbitMq(context),
            $"--ApprovalBot:Gateway:InstanceId=bench-gw-{suffix}",
            "--ApprovalBot:Gateway:AllowAnonymous=true",
            "--ApprovalBot:Gateway:Upstreams:agentwork:Enabled=false",
            $"--ApprovalBot:Gateway:Upstreams:bench:Url={upstreamUrl}",
            "--ApprovalBot:Gateway:Upstreams:bench:Prefix=",
            "--ApprovalBot:Approvals:MaxPendingPerAgent=1000000",
            "--ApprovalBot:Approvals:DefaultTimeout=01:00:00",
            // Parked calls stay parked until the bench decides (parking 10,000 may take longer than the default 40 s on a busy machine).
            "--ApprovalBot:Approvals:HoldFor=00:10:00",
            // The first progress notification (it names the approval) is sent at once; no more after it.
            "--ApprovalBot:Approvals:ProgressInterval=01:00:00",
        ]);
        var (bot, botUrl) = await Targets.StartApprovalBotAsync(context, "approvals-bot", Policy,
        [
            "--ApprovalBot:Role=bot",
            .. Targets.RabbitMq(context),
            $"--ApprovalBot:Bus:BotInstanceId=bench-bot-{suffix}",
        ]);
        return new ApprovalCluster(upstream, gateway, gatewayUrl, bot, botUrl);
    }

    /// <summary>The approval id named by the gateway's "waiting for approval …" progress notification.</summary>
    public static Guid? ApprovalIdOf(JsonElement notification)
    {
        if (notification.TryGetProperty("method", out var method) && method.GetString() == "notifications/progress"
            && notification.TryGetProperty("params", out var p) && p.TryGetProperty("message", out var message)
            && GuidPattern().Match(message.GetString() ?? "") is { Success: true } match)
        {
            return Guid.Parse(match.Value);
        }

        return null;
    }

    /// <summary>The ids of the approvals the bot lists as pending (at most 1,000).</summary>
    public async Task<HashSet<Guid>> PendingAtBotAsync()
    {
        var list = await Console.GetFromJsonAsync<JsonElement[]>("/api/approvals?status=pending&limit=1000") ?? [];
        return list.Select(a => a.GetProperty("id").GetGuid()).ToHashSet();
    }

    /// <summary>POST approve; true on 200. 404 (the bot has not heard of it yet) is retried for a while.</summary>
    public Task<(bool Ok, int Retries, string Answer)> ApproveAsync(Guid id, TimeSpan patience) => ApproveAtAsync(Console, id, patience);

    /// <summary>POST approve at the bot behind <paramref name="console"/>; true on 200. 404 (that bot has not heard of it yet) is retried for a while.</summary>
    public static async Task<(bool Ok, int Retries, string Answer)> ApproveAtAsync(HttpClient console, Guid id, TimeSpan patience)
    {
        var retries = 0;
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            using var response = await console.PostAsJsonAsync($"/api/approvals/{id}/approve", new { comment = "bench" });
            if (response.IsSuccessStatusCode)
            {
                return (true, retries, "");
            }

            var body = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode != 404 || DateTime.UtcNow > deadline)
            {
                return (false, retries, $"HTTP {(int)response.StatusCode} {body}");
            }

            retries++;
            await Task.Delay(20);
        }
    }

    /// <summary>True when a <c>tools/call</c> result is the gateway's hand-back ("Waiting for approval …").</summary>
    public static bool IsPending(JsonElement result) =>
        McpSession.IsError(result) && McpSession.Text(result).StartsWith("Waiting for approval", StringComparison.Ordinal);

    /// <summary>The approval id a handed-back result names, or null when the result is not a hand-back.</summary>
    public static Guid? PendingIdOf(JsonElement result) =>
        IsPending(result) && GuidPattern().Match(McpSession.Text(result)) is { Success: true } match ? Guid.Parse(match.Value) : null;

    /// <summary>Reads <c>{"n": …, "ts": …}</c> from the upstream's stamp answer.</summary>
    public static (string N, long Ts)? ParseStamp(JsonElement result)
    {
        if (McpSession.IsError(result))
        {
            return null;
        }

        try
        {
            var stamp = JsonSerializer.Deserialize<JsonElement>(McpSession.Text(result));
            return (stamp.GetProperty("n").GetString()!, stamp.GetProperty("ts").GetInt64());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Console.Dispose();
        await Bot.DisposeAsync();
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex GuidPattern();
}
