using System.Diagnostics;
using System.Globalization;
using ModelContextProtocol.Client;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Real upstream processes a test can start late, crash, stop (SIGSTOP) or replace: a wrapper
/// script that the gateway launches as a stdio upstream, and server-everything over HTTP.
/// </summary>
public static class UpstreamProcesses
{
    /// <summary>
    /// Writes an executable wrapper: every launch records its pid in <c>upstream.pid</c> (the gateway may have
    /// replaced its first launch already, e.g. when a slow start-up overran CallTimeout); the first launch runs
    /// <paramref name="firstLaunch"/>, every later one (the gateway reconnecting) <paramref name="laterLaunches"/>.
    /// </summary>
    public static async Task<StdioWrapper> WriteWrapperAsync(string directory, string firstLaunch, string? laterLaunches = null)
    {
        var pidFile = Path.Combine(directory, "upstream.pid");
        var marker = Path.Combine(directory, "upstream.launched");
        var script = Path.Combine(directory, "upstream.sh");
        await File.WriteAllTextAsync(script, $"""
            #!/bin/sh
            echo $$ > '{pidFile}'
            if [ -e '{marker}' ]; then
              {laterLaunches ?? firstLaunch}
            fi
            touch '{marker}'
            {firstLaunch}

            """.Replace("\r\n", "\n", StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return new StdioWrapper(script, pidFile);
    }

    public static string Sample => $"exec dotnet '{RepoPaths.SampleDll}'";

    public static string EverythingStdio => $"exec node '{RepoPaths.EverythingServer}' stdio";

    /// <summary>Sends a POSIX signal (STOP, CONT, KILL…) to a process.</summary>
    public static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed with {kill.ExitCode}");
        }
    }
}

/// <summary>A wrapper script the gateway runs as its upstream command, and the pid of its latest launch.</summary>
public sealed record StdioWrapper(string Script, string PidFile)
{
    /// <summary>The pid of the latest launch: the process serving once a call through it has been answered.</summary>
    public async Task<int> LatestPidAsync() =>
        int.Parse((await Eventually.GetAsync(
            () => Task.FromResult(File.Exists(PidFile) ? File.ReadAllText(PidFile).Trim() : null),
            t => t is { Length: > 0 },
            what: "the upstream's pid file")).Trim(), CultureInfo.InvariantCulture);
}

/// <summary>server-everything in its Streamable HTTP mode on a given port, started when the test says.</summary>
public sealed class EverythingHttpServer : IAsyncDisposable
{
    private readonly Process _process;

    private EverythingHttpServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static string UrlFor(int port) => $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/mcp";

    /// <summary>Starts it and waits until an MCP client can connect.</summary>
    public static async Task<EverythingHttpServer> StartAsync(int port, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.NodeTools };
        start.ArgumentList.Add(RepoPaths.EverythingServer);
        start.ArgumentList.Add("streamableHttp");
        start.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new EverythingHttpServer(process, port);
        await Eventually.GetAsync<bool?>(
            async () =>
            {
                try
                {
                    var transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(UrlFor(port)), TransportMode = HttpTransportMode.StreamableHttp });
                    await using var probe = await McpClient.CreateAsync(transport);
                    return true;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or ModelContextProtocol.McpException)
                {
                    return false;
                }
            },
            ok => ok == true,
            what: "server-everything to listen over HTTP");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}

/// <summary>Counts the notifications a client receives, per method, so a test can wait for the next one.</summary>
public sealed class NotificationCounter
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Starts counting on <paramref name="client"/> (for its lifetime).</summary>
    public static NotificationCounter Attach(McpClient client, params string[] methods)
    {
        var counter = new NotificationCounter();
        foreach (var method in methods)
        {
            // Lives as long as the client; disposing the client ends it.
            _ = client.RegisterNotificationHandler(method, (n, _) =>
            {
                lock (counter._counts)
                {
                    counter._counts[n.Method] = counter._counts.GetValueOrDefault(n.Method) + 1;
                }

                return ValueTask.CompletedTask;
            });
        }

        return counter;
    }

    public int Count(string method)
    {
        lock (_counts)
        {
            return _counts.GetValueOrDefault(method);
        }
    }

    /// <summary>Waits (bounded) until more than <paramref name="before"/> notifications of <paramref name="method"/> arrived.</summary>
    public Task WaitForMoreThanAsync(string method, int before, TimeSpan? within = null) =>
        Eventually.GetAsync(() => Task.FromResult<int?>(Count(method)), c => c > before, within ?? TimeSpan.FromSeconds(45), $"{method} after {before}");
}
