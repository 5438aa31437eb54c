using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in tests/conformance)
/// and the conformance-complete server of tests/conformance/server.mjs that it is run against.
/// </summary>
public static partial class ConformanceSuite
{
    private static readonly Lazy<string> DirectoryLazy = new(() =>
    {
        var directory = Path.Combine(RepoPaths.Root, "tests", "conformance");
        if (!System.IO.Directory.Exists(Path.Combine(directory, "node_modules", "@modelcontextprotocol", "conformance")))
        {
            // The README's test command installs these; this covers running one test from an IDE.
            using var npm = Process.Start(new ProcessStartInfo("npm", "ci --no-audit --no-fund") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true })!;
            npm.StandardOutput.ReadToEnd();
            var error = npm.StandardError.ReadToEnd();
            npm.WaitForExit();
            if (npm.ExitCode != 0)
            {
                throw new InvalidOperationException("npm ci in tests/conformance failed: " + error);
            }
        }

        return directory;
    });

    /// <summary>tests/conformance with its npm packages installed.</summary>
    public static string Directory => DirectoryLazy.Value;

    public static string ServerScript => Path.Combine(Directory, "server.mjs");

    /// <summary>Starts the conformance server over Streamable HTTP on a free loopback port.</summary>
    public static async Task<ConformanceServer> StartServerAsync()
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(ServerScript);
        start.ArgumentList.Add("http");
        start.ArgumentList.Add("0");
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line;
        while ((line = await process.StandardOutput.ReadLineAsync(timeout.Token)) is not null && !line.StartsWith("listening ", StringComparison.Ordinal))
        {
        }

        if (line is null)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("the conformance server exited before it listened");
        }

        _ = process.StandardOutput.ReadToEndAsync(CancellationToken.None);

        return new ConformanceServer(process, new Uri(line["listening ".Length..]));
    }

    /// <summary>Runs every server scenario of the suite (or one) against <paramref name="url"/>.</summary>
    public static async Task<SuiteRun> RunAsync(Uri url, string? scenario = null, CancellationToken cancellationToken = default)
    {
        var output = RepoPaths.NewTempDirectory();
        var start = new ProcessStartInfo("node") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true };
        // node20.mjs: the suite's bundle imports fs.globSync (Node 22) at load; see the file.
        foreach (var arg in new[] { "--import", "./node20.mjs", "node_modules/@modelcontextprotocol/conformance/dist/index.js", "server", "--url", url.ToString(), "-o", output })
        {
            start.ArgumentList.Add(arg);
        }

        if (scenario is null)
        {
            start.ArgumentList.Add("--suite");
            start.ArgumentList.Add("all");
        }
        else
        {
            start.ArgumentList.Add("--scenario");
            start.ArgumentList.Add(scenario);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var scenarios = new Dictionary<string, ScenarioResult>(StringComparer.Ordinal);
        foreach (var checks in System.IO.Directory.EnumerateFiles(output, "checks.json", SearchOption.AllDirectories))
        {
            var name = ResultDirectory().Match(Path.GetFileName(Path.GetDirectoryName(checks)!)).Groups["scenario"].Value;
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(checks, cancellationToken));
            var failures = json.RootElement.EnumerateArray()
                .Where(c => c.GetProperty("status").GetString() == "FAILURE")
                .Select(c => $"{c.GetProperty("id").GetString()}: {(c.TryGetProperty("errorMessage", out var m) ? m.GetString() : "failed")}")
                .ToList();
            scenarios[name] = new ScenarioResult(name, failures);
        }

        if (scenarios.Count == 0)
        {
            throw new InvalidOperationException($"the conformance suite ran no scenario (exit {process.ExitCode}): {await stdout}{await stderr}");
        }

        return new SuiteRun(scenarios);
    }

    [GeneratedRegex(@"^server-(?<scenario>.+)-\d{4}-\d{2}-\d{2}T")]
    private static partial Regex ResultDirectory();
}

/// <summary>One scenario's outcome: passed when none of its checks failed (warnings and notes do not fail it).</summary>
public sealed record ScenarioResult(string Name, IReadOnlyList<string> Failures)
{
    public bool Passed => Failures.Count == 0;
}

public sealed record SuiteRun(IReadOnlyDictionary<string, ScenarioResult> Scenarios)
{
    public IEnumerable<string> Passed => Scenarios.Values.Where(s => s.Passed).Select(s => s.Name);

    /// <summary>The scenarios that pass in <paramref name="baseline"/> but not here, with why.</summary>
    public IReadOnlyList<string> Regressions(SuiteRun baseline) =>
        baseline.Passed
            .Where(name => !Scenarios.TryGetValue(name, out var result) || !result.Passed)
            .Select(name => Scenarios.TryGetValue(name, out var result) ? $"{name}: {string.Join("; ", result.Failures)}" : $"{name}: not run")
            .ToList();
}

/// <summary>The conformance server process (Streamable HTTP).</summary>
public sealed class ConformanceServer(Process process, Uri url) : IAsyncDisposable
{
    public Uri Url { get; } = url;

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }
}
