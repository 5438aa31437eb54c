using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>
/// What the Slack and Teams end-to-end rigs share: the real host (role all, in-memory bus) with a
/// channel pointed at local fakes, a real MCP client of the test agent, an anonymous HTTP client
/// (as the chat service calls the bot) and the console API with the admin token.
/// </summary>
internal abstract class ChannelRig : IAsyncDisposable
{
    /// <summary>The guarded tool every channel test calls: the test policy holds it for approval.</summary>
    public const string Tool = "agentwork_cancel_task";

    /// <summary>The fakes and the host, in the order they started; disposed in reverse.</summary>
    private readonly IReadOnlyList<IAsyncDisposable> _started;

    protected ChannelRig(Started started)
    {
        Host = started.Host;
        Client = started.Client;
        _started = started.Parts;
        Http = new HttpClient { BaseAddress = Host.BaseUrl };
        Console = Host.ConsoleClient();
    }

    public GatewayHost Host { get; }

    public McpClient Client { get; }

    /// <summary>Anonymous, as the chat service calls the bot.</summary>
    public HttpClient Http { get; }

    /// <summary>The console API with the admin token.</summary>
    public HttpClient Console { get; }

    /// <summary>The host with its MCP client, and everything started for it (the host last).</summary>
    protected sealed record Started(GatewayHost Host, McpClient Client, IReadOnlyList<IAsyncDisposable> Parts);

    /// <summary>
    /// Runs <paramref name="startFakes"/> (which adds each fake to the list as it starts and returns
    /// the host's settings), then the host and its client; whatever started is disposed again when
    /// a later step fails.
    /// </summary>
    /// <param name="dataDirectory">A data directory to (re)use, e.g. to start again after a restart; null for a new one.</param>
    protected static async Task<Started> StartAsync(Func<List<IAsyncDisposable>, Task<IEnumerable<string>>> startFakes, string? policy = null, string? dataDirectory = null)
    {
        var parts = new List<IAsyncDisposable>();
        try
        {
            var settings = await startFakes(parts);
            var host = await GatewayHost.StartAsync(policy: policy, withEverything: false, settings: settings, dataDirectory: dataDirectory);
            parts.Add(host);
            var client = await host.ConnectAsync();
            return new Started(host, client, parts);
        }
        catch
        {
            await DisposeAllAsync(parts);
            throw;
        }
    }

    public Task<CallToolResult> CallCancelTaskAsync(CancellationToken cancellationToken = default, string task = "T-100") =>
        Client.CallToolAsync(Tool, new Dictionary<string, object?> { ["task_id"] = task, ["api_key"] = GatewayHost.SampleApiKey }, cancellationToken: cancellationToken).AsTask();

    /// <summary>The id of the pending approval of <see cref="Tool"/>, from the console API.</summary>
    public async Task<Guid> WaitForPendingIdAsync()
    {
        var pending = await ConsoleApi.WaitForPendingAsync(Console, Tool);
        return Guid.Parse(pending.GetProperty("id").GetString()!);
    }

    /// <summary>The gateway's audit rows of the approval, after the audit trail is flushed.</summary>
    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(Guid approvalId)
    {
        await Host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
        return await Host.Get<GatewayStore>().ReadAuditAsync(approvalId, 100, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Client.DisposeAsync();
        }
        finally
        {
            Http.Dispose();
            Console.Dispose();
            await DisposeAllAsync(_started);
        }
    }

    private static async Task DisposeAllAsync(IReadOnlyList<IAsyncDisposable> parts)
    {
        for (var i = parts.Count - 1; i >= 0; i--)
        {
            await parts[i].DisposeAsync();
        }
    }
}
