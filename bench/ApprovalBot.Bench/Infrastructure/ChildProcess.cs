using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ApprovalBot.Bench.Infrastructure;

/// <summary>
/// A process the bench started (a proxy, an upstream, a gateway or a bot), its output in a log
/// file, ended with its whole tree when disposed. Reads its memory and thread count from /proc.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private static readonly List<Process> Running = [];

    private readonly Process _process;

    static ChildProcess()
    {
        // A bench that dies (or is stopped) must not leave its gateways, bots and proxies behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    private ChildProcess(string name, Process process, string logPath)
    {
        Name = name;
        _process = process;
        LogPath = logPath;
        lock (Running)
        {
            Running.Add(process);
        }
    }

    private static void KillAll()
    {
        lock (Running)
        {
            foreach (var process in Running)
            {
                try
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
                {
                    // Gone already, or nothing more to do.
                }
            }
        }
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="file"/> with stdin from /dev/null and stdout+stderr appended to <c>{logDirectory}/{name}.log</c>.</summary>
    public static ChildProcess Start(string name, string file, IEnumerable<string> args, string logDirectory, IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        Directory.CreateDirectory(logDirectory);
        var log = Path.Combine(logDirectory, name + ".log");
        // exec: the shell becomes the program, so the pid we hold is the program's own.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = workingDirectory ?? logDirectory };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" </dev/null >>\"$BENCH_LOG\" 2>&1");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(file);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["BENCH_LOG"] = log;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return new ChildProcess(name, Process.Start(start)!, log);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until something accepts TCP connections on the port.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan within)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ThrowIfExited();
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < within)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Waits until GET <paramref name="url"/> answers 2xx.</summary>
    public async Task WaitForHttpAsync(Uri url, TimeSpan within)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        string last = "no answer";
        while (deadline.Elapsed < within)
        {
            ThrowIfExited();
            try
            {
                using var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"{Name} did not answer {url} within {within.TotalSeconds} s ({last}); log: {LogPath}\n{Tail()}");
    }

    /// <summary>Resident set size in KiB and thread count, from /proc/&lt;pid&gt;/status.</summary>
    public ProcStatus Status()
    {
        long rss = 0, hwm = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = ParseKb(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = ParseKb(line);
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return new ProcStatus(rss, hwm, threads);
    }

    public string Tail(int lines = 30)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        }
        catch (IOException)
        {
            return "";
        }
    }

    public void ThrowIfExited()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode}; log: {LogPath}\n{Tail()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception or IOException)
        {
            // Already gone, or not ending: nothing more this bench can do.
        }

        lock (Running)
        {
            Running.Remove(_process);
        }

        _process.Dispose();
    }

    private static long ParseKb(string line) =>
        long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}

/// <summary>What /proc says about a process: resident memory now and at its peak (KiB), and its threads.</summary>
public sealed record ProcStatus(long RssKb, long PeakRssKb, int Threads);
