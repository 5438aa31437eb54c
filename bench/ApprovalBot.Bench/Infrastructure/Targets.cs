using System.Security.Cryptography;

namespace ApprovalBot.Bench.Infrastructure;

/// <summary>Starts the processes under test: ApprovalBot (any role), the npm peers and the upstreams.</summary>
public static class Targets
{
    public const string AdminToken = "bench-admin-token-0123456789";

    /// <summary>The real executable with the shipped appsettings.json plus <paramref name="settings"/>; waits for <c>/readyz</c>.</summary>
    public static async Task<(ChildProcess Process, Uri BaseUrl)> StartApprovalBotAsync(
        BenchContext context, string name, string policyJson, IEnumerable<string> settings, string? dataDirectory = null)
    {
        var data = dataDirectory ?? context.NewDirectory(name);
        var policy = Path.Combine(data, "policy.json");
        await File.WriteAllTextAsync(policy, policyJson);
        var port = ChildProcess.FreePort();
        var baseUrl = new Uri($"http://127.0.0.1:{port}");
        string[] args =
        [
            BenchPaths.ApprovalBotDll,
            $"--urls={baseUrl}",
            $"--ApprovalBot:DataDirectory={data}",
            $"--ApprovalBot:PolicyPath={policy}",
            $"--ApprovalBot:Console:AdminToken={AdminToken}",
            .. settings,
        ];
        var process = ChildProcess.Start(name, "dotnet", args, context.LogDirectory, workingDirectory: data);
        await process.WaitForHttpAsync(new Uri(baseUrl, "/readyz"), TimeSpan.FromSeconds(90));
        return (process, baseUrl);
    }

    /// <summary>Settings that put an ApprovalBot process on the run's RabbitMQ virtual host.</summary>
    public static IEnumerable<string> RabbitMq(BenchContext context) =>
    [
        "--ApprovalBot:Bus:Transport=RabbitMq",
        "--ApprovalBot:Bus:RabbitMq:Host=127.0.0.1",
        $"--ApprovalBot:Bus:RabbitMq:Port={context.RabbitMqPort}",
        $"--ApprovalBot:Bus:RabbitMq:VirtualHost={context.RabbitMqVirtualHost}",
    ];

    /// <summary>server-everything in its own Streamable HTTP mode (PORT from the environment).</summary>
    public static async Task<(ChildProcess Process, Uri McpUrl)> StartEverythingHttpAsync(BenchContext context)
    {
        var port = ChildProcess.FreePort();
        var process = ChildProcess.Start("everything-http", "node", [BenchPaths.EverythingServer, "streamableHttp"], context.LogDirectory, new Dictionary<string, string> { ["PORT"] = port.ToString() });
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    /// <summary>This program as the HTTP upstream: the sample's tools and <c>stamp</c>.</summary>
    public static async Task<(ChildProcess Process, Uri McpUrl)> StartBenchUpstreamAsync(BenchContext context, string name = "bench-upstream")
    {
        var port = ChildProcess.FreePort();
        var process = ChildProcess.Start(name, "dotnet", [BenchPaths.BenchDll, "upstream", "--port", port.ToString()], context.LogDirectory);
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    /// <summary>npm <c>mcp-proxy</c>: spawns the stdio server and serves it over Streamable HTTP.</summary>
    public static async Task<(ChildProcess Process, Uri McpUrl)> StartMcpProxyAsync(BenchContext context, string name, string command, params string[] args)
    {
        var port = ChildProcess.FreePort();
        var process = ChildProcess.Start(
            name,
            "node",
            [BenchPaths.McpProxy, "--host", "127.0.0.1", "--port", port.ToString(), "--server", "stream", "--", command, .. args],
            context.LogDirectory);
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    /// <summary>npm <c>@civic/passthrough-mcp-server</c>: Streamable HTTP in, Streamable HTTP to the target.</summary>
    public static async Task<(ChildProcess Process, Uri McpUrl)> StartCivicAsync(BenchContext context, string name, Uri target)
    {
        var port = ChildProcess.FreePort();
        var targetBase = target.GetLeftPart(UriPartial.Authority);
        var process = ChildProcess.Start(
            name,
            "node",
            [BenchPaths.CivicPassthrough],
            context.LogDirectory,
            new Dictionary<string, string> { ["PORT"] = port.ToString(), ["TARGET_SERVER_URL"] = targetBase, ["TARGET_SERVER_MCP_PATH"] = target.AbsolutePath },
            workingDirectory: Path.GetDirectoryName(BenchPaths.CivicPassthrough));
        await process.WaitForPortAsync(port, TimeSpan.FromSeconds(60));
        return (process, new Uri($"http://127.0.0.1:{port}/mcp"));
    }

    public static string RandomSuffix() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
}
