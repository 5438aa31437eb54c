using ApprovalBot.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The real ApprovalBot host, in this process, on a free loopback port, with its own data
/// directory and policy file, in front of the real upstreams (server-everything over stdio via
/// npm, and the sample).
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string AdminToken = "test-admin-token-0123456789";
    public const string AgentKey = "sk-test-agent-key";
    public const string SampleApiKey = "sk-agentwork-live-7f3a9c";

    private readonly WebApplication _app;

    private GatewayHost(WebApplication app, string dataDirectory, string policyPath)
    {
        _app = app;
        DataDirectory = dataDirectory;
        PolicyPath = policyPath;
    }

    public string DataDirectory { get; }
    public string PolicyPath { get; }
    public IServiceProvider Services => _app.Services;
    public Uri BaseUrl { get; private set; } = null!;
    public Uri McpUrl => new(BaseUrl, "/mcp");

    public static async Task<GatewayHost> StartAsync(
        string? policy = null,
        IEnumerable<string>? settings = null,
        bool withEverything = true,
        bool anonymous = false,
        Action<WebApplicationBuilder>? customize = null,
        string? dataDirectory = null,
        bool waitForUpstreams = true)
    {
        var directory = dataDirectory ?? RepoPaths.NewTempDirectory();
        var policyPath = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policyPath, policy ?? TestPolicies.Standard);
        var args = new List<string>
        {
            "--urls=http://127.0.0.1:0",
            $"--ApprovalBot:DataDirectory={directory}",
            $"--ApprovalBot:PolicyPath={policyPath}",
            $"--ApprovalBot:Console:AdminToken={AdminToken}",
            $"--ApprovalBot:Gateway:AllowAnonymous={anonymous}",
            $"--ApprovalBot:Gateway:Agents:test-agent:ApiKeySha256={Gateway.Identity.AgentAuthentication.HashKey(AgentKey)}",
            $"--ApprovalBot:Gateway:Agents:other-agent:ApiKeySha256={Gateway.Identity.AgentAuthentication.HashKey(AgentKey + "-other")}",
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Env:AGENTWORK_API_KEY={SampleApiKey}",
            "--ApprovalBot:Gateway:InstanceId=" + ("gw-" + Guid.NewGuid().ToString("n")[..8]),
            "--ApprovalBot:Approvals:ProgressInterval=00:00:00.200",
            "--Logging:LogLevel:Default=Warning",
        };
        if (withEverything)
        {
            args.Add("--ApprovalBot:Gateway:Upstreams:everything:Command=node");
            args.Add($"--ApprovalBot:Gateway:Upstreams:everything:Args:0={RepoPaths.EverythingServer}");
            args.Add("--ApprovalBot:Gateway:Upstreams:everything:Args:1=stdio");
        }

        args.AddRange(settings ?? []);
        var (app, errors) = ServerHost.Build(args.ToArray(), stdio: false, TextWriter.Null, customize);
        if (app is null)
        {
            throw new InvalidOperationException("configuration refused: " + string.Join("; ", errors));
        }

        var host = new GatewayHost(app, directory, policyPath);
        await app.StartAsync();
        host.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        // Off: the test talks to the gateway the moment it listens, as a client racing its start-up would.
        if (waitForUpstreams && app.Services.GetService<Gateway.Upstreams.UpstreamRegistry>() is { } upstreams)
        {
            await upstreams.WhenFirstAttemptsDoneAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        }

        return host;
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>A C# SDK client connected as <c>test-agent</c> (or the given key).</summary>
    public Task<McpClient> ConnectAsync(string? apiKey = AgentKey, McpClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        var headers = new Dictionary<string, string>();
        if (apiKey is not null)
        {
            headers["Authorization"] = "Bearer " + apiKey;
        }

        var transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = McpUrl, AdditionalHeaders = headers, TransportMode = HttpTransportMode.StreamableHttp });
        return McpClient.CreateAsync(transport, options, cancellationToken: cancellationToken);
    }

    public HttpClient ConsoleClient()
    {
        var http = new HttpClient { BaseAddress = BaseUrl };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
