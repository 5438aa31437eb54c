using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>The real executable as a separate process (roles gateway / bot), with its output kept for assertions.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
        process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseUrl { get; }

    public string Output { get { lock (_output) { return _output.ToString(); } } }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Starts <c>approvalbot</c> with the given arguments on a free port and waits for /healthz. A port found
    /// free can be taken by another process before this one binds it (parallel tests): then it starts again
    /// on another port, up to three times.
    /// </summary>
    public static async Task<AppProcess> StartAsync(IEnumerable<string> args, bool waitForHealth = true, int? port = null)
    {
        var arguments = args.ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(arguments, waitForHealth, port);
            }
            catch (PortTakenException) when (port is null && attempt < 3)
            {
            }
        }
    }

    private sealed class PortTakenException(string message) : InvalidOperationException(message);

    private static async Task<AppProcess> StartOnceAsync(IReadOnlyList<string> args, bool waitForHealth, int? port)
    {
        var url = new Uri($"http://127.0.0.1:{port ?? FreePort()}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        start.ArgumentList.Add(RepoPaths.ApprovalBotDll);
        foreach (var arg in args.Append($"--urls={url}").Append("--Logging:LogLevel:Default=Information").Append("--Logging:LogLevel:Microsoft.AspNetCore=Warning"))
        {
            start.ArgumentList.Add(arg);
        }

        var app = new AppProcess(Process.Start(start)!, url);
        try
        {
            if (waitForHealth)
            {
                await WaitForHealthAsync(app, url);
            }
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return app;
    }

    private static async Task WaitForHealthAsync(AppProcess app, Uri url)
    {
        using var http = new HttpClient { BaseAddress = url };
        await Eventually.GetAsync<bool?>(
            async () =>
            {
                if (app.HasExited)
                {
                    var output = app.Output;
                    throw output.Contains("the address is already in use", StringComparison.Ordinal)
                        ? new PortTakenException($"approvalbot exited with {app.ExitCode}: {output}")
                        : new InvalidOperationException($"approvalbot exited with {app.ExitCode}: {output}");
                }

                try
                {
                    return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            ok => ok == true,
            TimeSpan.FromSeconds(60),
            "approvalbot to answer /healthz");
    }

    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Kill() => _process.Kill(entireProcessTree: true);

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
