using System.Diagnostics.Metrics;
using System.Security.Claims;
using System.Text.Json;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Enforcement;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Telemetry;
using ApprovalBot.Gateway.Tests.Parking;
using ApprovalBot.Gateway.Tests.Upstreams;
using ApprovalBot.Tests.Upstreams;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ApprovalBot.Gateway.Tests.Enforcement;

/// <summary>
/// <see cref="CallEnforcement"/> as the MCP filter runs it: a real policy, the real registry over an
/// in-process upstream (<c>agentwork_*</c>), the real gate and lifecycle on SQLite, and a fake clock
/// for the rate limiter. <c>next</c> forwards to the upstream the way the gateway's handler does.
/// </summary>
public sealed class EnforcementRig : IAsyncDisposable
{
    private static readonly McpServer Server = McpServer.Create(new StreamServerTransport(new MemoryStream(), Stream.Null), new McpServerOptions());
    private readonly ServiceProvider _services;

    private EnforcementRig(LifecycleHarness harness, InProcessUpstream upstream, UpstreamRig upstreams, PolicyStore policies, GatewayOptions options, ServiceProvider services)
    {
        H = harness;
        Upstream = upstream;
        Upstreams = upstreams;
        Policies = policies;
        _services = services;
        Enforcement = new CallEnforcement(
            policies, upstreams.Registry, new RateLimiter(harness.Time), harness.Gate, harness.Digests, harness.Audit, new ApprovalBot.Gateway.Identity.AgentIdentity(options),
            new GatewayTelemetry(services.GetRequiredService<IMeterFactory>(), () => 0), harness.Time, NullLogger<CallEnforcement>.Instance);
    }

    public LifecycleHarness H { get; }
    public InProcessUpstream Upstream { get; }
    public UpstreamRig Upstreams { get; }
    public PolicyStore Policies { get; }
    public CallEnforcement Enforcement { get; }

    /// <summary>How many times the filter passed a call on to the handler.</summary>
    public int Forwarded => _forwarded;

    private int _forwarded;

    public static async Task<EnforcementRig> StartAsync(string policyJson, GatewayOptions? options = null)
    {
        var parsed = Policy.Parse(policyJson);
        var policy = parsed.Policy ?? throw new InvalidOperationException(string.Join("; ", parsed.Errors.Select(e => $"{e.Path}: {e.Message}")));
        var harness = new LifecycleHarness();
        await harness.InitializeAsync();
        var upstream = await InProcessUpstream.StartAsync("agentwork-server", "list_tasks", "cancel_task", "delete_all", "ping", "secret_tool");
        var upstreams = await UpstreamRig.StartAsync([("agentwork", upstream, null)], harness.Time);
        await upstreams.WaitForFirstAttemptsAsync();
        var policies = new PolicyStore(Path.Combine(Path.GetTempPath(), "unused-policy.json"), policy, harness.Time, NullLogger<PolicyStore>.Instance);
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        return new EnforcementRig(harness, upstream, upstreams, policies, options ?? new GatewayOptions(), services);
    }

    /// <summary>An API-key agent (authenticated identity), or the stdio front's (no user) when <paramref name="agent"/> is null.</summary>
    public static ClaimsPrincipal? Agent(string? agent) =>
        agent is null ? null : new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, agent)], "apikey"));

    public Task<CallToolResult> CallAsync(string tool, object? arguments = null, string? agent = "agent-1") =>
        CallAsync(tool, arguments, Agent(agent));

    public async Task<CallToolResult> CallAsync(string tool, object? arguments, ClaimsPrincipal? user)
    {
        var parameters = new CallToolRequestParams
        {
            Name = tool,
            Arguments = arguments is null ? null : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(arguments)),
        };
        var context = new RequestContext<CallToolRequestParams>(Server, new JsonRpcRequest { Id = new RequestId(1), Method = RequestMethods.ToolsCall }, parameters) { User = user };
        return await Enforcement.CallToolAsync(context, ForwardAsync, CancellationToken.None);
    }

    public async Task<IReadOnlyList<string>> ListAsync()
    {
        var context = new RequestContext<ListToolsRequestParams>(Server, new JsonRpcRequest { Id = new RequestId(2), Method = RequestMethods.ToolsList }, new ListToolsRequestParams());
        var result = await Enforcement.ListToolsAsync(
            context, (_, _) => ValueTask.FromResult(new ListToolsResult { Tools = Upstreams.Catalog.Tools.Select(t => t.Exposed).ToList() }), CancellationToken.None);
        return result.Tools.Select(t => t.Name).ToList();
    }

    private async ValueTask<CallToolResult> ForwardAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _forwarded);
        var tool = Upstreams.Catalog.ToolsByName[context.Params!.Name];
        var forwarded = new CallToolRequestParams { Name = tool.UpstreamName, Arguments = context.Params.Arguments };
        return await tool.Upstream.ForwardAsync(RequestMethods.ToolsCall, (client, ct) => client.CallToolAsync(forwarded, ct), cancellationToken);
    }

    /// <summary>The audit rows so far, oldest first.</summary>
    public async Task<IReadOnlyList<AuditEntry>> AuditAsync()
    {
        await H.Audit.FlushAsync(CancellationToken.None);
        return (await H.Store.ReadAuditAsync(null, 1000, CancellationToken.None)).Reverse().ToList();
    }

    /// <summary>The tools/call requests that reached the upstream, by upstream tool name.</summary>
    public IReadOnlyList<string> UpstreamCalls => Upstream.Calls.Select(c => c.Tool).ToList();

    public async ValueTask DisposeAsync()
    {
        await Upstreams.DisposeAsync();
        await H.DisposeAsync();
        await _services.DisposeAsync();
    }
}
