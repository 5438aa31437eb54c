using System.Diagnostics;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>Where the repository and its test tools are, found from the test binaries upward.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> NodeToolsLazy = new(() =>
    {
        var node = Path.Combine(Root, "tests", "node");
        if (!Directory.Exists(Path.Combine(node, "node_modules", "@modelcontextprotocol")))
        {
            // The README's test command installs these; this covers running one test from an IDE.
            Run("npm", "ci --no-audit --no-fund", node);
        }

        return node;
    });

    public static string Root => ApprovalBot.Tests.Shared.RepoScripts.Root;

    /// <summary>tests/node with its npm packages installed.</summary>
    public static string NodeTools => NodeToolsLazy.Value;

    public static string EverythingServer => Path.Combine(NodeTools, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js");

    /// <summary>The built executable (approvalbot.dll) beside the test binaries.</summary>
    public static string ApprovalBotDll => Path.Combine(AppContext.BaseDirectory, "approvalbot.dll");

    public static string SampleDll => Path.Combine(AppContext.BaseDirectory, "Agentwork.Sample.dll");

    public static string NewTempDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "approvalbot-tests", Guid.NewGuid().ToString("n")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static void Run(string file, string arguments, string workingDirectory)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed: {error}");
        }
    }
}
