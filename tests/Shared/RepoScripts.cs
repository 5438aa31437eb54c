using System.Diagnostics;

namespace ApprovalBot.Tests.Shared;

/// <summary>
/// The repository the tests run from, and its scripts (scripts/rabbitmq-test.sh, scripts/postgres-test.sh)
/// run the one way every fixture runs them. Compiled into each test project that needs it (linked source).
/// </summary>
public static class RepoScripts
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        // From the binaries (normal builds), else from this source file (builds with --artifacts-path).
        foreach (var start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(SourceFile())! })
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

        throw new InvalidOperationException("ApprovalBot.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootLazy.Value;

    /// <summary>Runs scripts/<paramref name="script"/> with bash; its standard output, or an exception with both outputs when it fails.</summary>
    public static async Task<string> RunAsync(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(Root, "scripts", script));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/{script} {string.Join(' ', arguments)} failed (exit {process.ExitCode}): {await error} {await output}");
        }

        return await output;
    }

    /// <summary>The last line of <paramref name="output"/> as a port (the scripts print it last).</summary>
    public static int Port(string output, string script) =>
        int.TryParse(output.Trim().Split('\n').Last(), out var port) ? port : throw new InvalidOperationException($"scripts/{script} printed no port: {output}");

    private static string SourceFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;
}
