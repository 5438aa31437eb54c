namespace ApprovalBot.Bench.Infrastructure;

/// <summary>Where the repository, the built executables and the npm packages are.</summary>
public static class BenchPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        // From where it runs, else from the binaries, else from this source file (builds with --artifacts-path).
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory, Path.GetDirectoryName(SourceFile())! })
        {
            var directory = new DirectoryInfo(start);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ApprovalBot.sln")))
            {
                directory = directory.Parent;
            }

            if (directory is not null)
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("ApprovalBot.sln not found above the current directory or " + AppContext.BaseDirectory);
    });

    public static string Root => RootLazy.Value;

    /// <summary>
    /// The gateway executable, copied beside the bench by its project reference; APPROVALBOT_BENCH_DLL
    /// points at another build (to measure before/after a change with the same bench).
    /// </summary>
    public static string ApprovalBotDll =>
        Environment.GetEnvironmentVariable("APPROVALBOT_BENCH_DLL") is { Length: > 0 } other ? other : Path.Combine(AppContext.BaseDirectory, "approvalbot.dll");

    public static string SampleDll => Path.Combine(AppContext.BaseDirectory, "Agentwork.Sample.dll");

    /// <summary>This program, to start it again as the HTTP upstream.</summary>
    public static string BenchDll => Path.Combine(AppContext.BaseDirectory, "ApprovalBot.Bench.dll");

    public static string EverythingServer => Path.Combine(Root, "tests", "node", "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");

    public static string McpProxy => Path.Combine(Root, "bench", "node", "node_modules", "mcp-proxy", "dist", "bin", "mcp-proxy.mjs");

    public static string CivicPassthrough => Path.Combine(Root, "bench", "node", "node_modules", "@civic", "passthrough-mcp-server", "dist", "cli.js");

    public static string RabbitMqScript => Path.Combine(Root, "scripts", "rabbitmq-test.sh");

    public static string Results => Path.Combine(Root, "bench", "results");

    private static string SourceFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;
}
