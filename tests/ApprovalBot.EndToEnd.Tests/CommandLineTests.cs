using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ApprovalBot.Cli;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>What a newcomer meets at the terminal: help, a busy port, the CLI finding its server, dotnet run's paths.</summary>
public sealed class CommandLineTests
{
    private const string Token = "cli-test-admin-token-0123456789";

#if DEBUG
    private const string BuildConfiguration = "Debug";
#else
    private const string BuildConfiguration = "Release";
#endif

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    [InlineData("--ApprovalBot:Role=gateway", "--help")]
    [InlineData("stdio", "--help")]
    [InlineData("policy", "--help")]
    [InlineData("policy", "validate", "--help")]
    [InlineData("policy", "scan", "-h")]
    [InlineData("approvals", "--help")]
    [InlineData("approvals", "list", "--help")]
    [InlineData("hash-key", "--help")]
    [InlineData("help", "approvals")]
    public async Task Help_prints_usage_and_exits_0_without_starting_anything(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        // A server would never return: the bound wait turns "started a server" into a failure.
        var exit = await CommandLine.RunAsync(args, stdout, stderr).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exit);
        Assert.Contains("usage", stdout.ToString());
        Assert.Equal(string.Empty, stderr.ToString());
    }

    [Fact]
    public async Task Each_verb_has_its_own_help()
    {
        async Task<string> Help(params string[] args)
        {
            var stdout = new StringWriter();
            await CommandLine.RunAsync(args, stdout, TextWriter.Null).WaitAsync(TimeSpan.FromSeconds(30));
            return stdout.ToString();
        }

        Assert.Contains("--url", await Help("approvals", "--help"));
        Assert.Contains("ASPNETCORE_URLS", await Help("approvals", "--help"));
        Assert.Contains("policy explain", await Help("policy", "explain", "--help"));
        Assert.DoesNotContain("approvals", await Help("policy", "--help"));
        Assert.Contains("stdin/stdout", await Help("stdio", "--help"));
        Assert.Contains("--urls", await Help("--help"));
    }

    [Fact]
    public async Task Port_in_use_is_one_line_naming_the_address_and_exit_code_2()
    {
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)occupied.LocalEndpoint).Port}";
        var directory = RepoPaths.NewTempDirectory();

        var (exit, output) = await RunAsync(directory, null, $"--urls={url}", $"--ApprovalBot:DataDirectory={directory}", $"--ApprovalBot:Console:AdminToken={Token}");

        Assert.Equal(2, exit);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains(url, line);
        Assert.Contains("already in use", line);
        Assert.Contains("--urls", line);
    }

    [Fact]
    public async Task Approvals_verbs_find_the_server_from_the_same_configuration()
    {
        // Started as an operator would on another port: ASPNETCORE_URLS, token generated into ./data.
        var directory = RepoPaths.NewTempDirectory();
        var url = $"http://127.0.0.1:{AppProcess.FreePort()}";
        var environment = new Dictionary<string, string> { ["ASPNETCORE_URLS"] = url };
        using var server = Start(directory, environment, $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}");
        try
        {
            await WaitForHealthAsync(server, url);
            Assert.True(File.Exists(Path.Combine(directory, "data", "console.token")));

            var (exit, output) = await RunAsync(directory, environment, "approvals", "list", "--status", "all");

            Assert.True(exit == 0, output);
            Assert.Contains("0 approval(s)", output);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    [Fact]
    public void Allowed_hosts_that_are_not_host_names_are_refused_at_start_up()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ApprovalBot:PolicyPath"] = Path.Combine(RepoPaths.Root, "examples", "policy.json"),
            ["ApprovalBot:Gateway:Upstreams:agentwork:Command"] = "dotnet",
            ["ApprovalBot:Gateway:AllowedHosts:0"] = "gateway.example.com",
            ["ApprovalBot:Gateway:AllowedHosts:1"] = "https://gateway.example.com/mcp",
        }).Build();

        var (_, errors) = Configuration.ConfigurationValidator.Validate(configuration, RepoPaths.NewTempDirectory());

        var error = Assert.Single(errors);
        Assert.StartsWith("ApprovalBot:Gateway:AllowedHosts:1 ", error);
    }

    [Theory]
    [InlineData("Mongo", null, "ApprovalBot:Storage:Provider must be Sqlite or Postgres (got 'Mongo').")]
    [InlineData("Postgres", null, "ApprovalBot:Storage:Postgres:ConnectionString is required when ApprovalBot:Storage:Provider is Postgres.")]
    [InlineData("postgres", "Host=;Password=s3cret-not-shown", "ApprovalBot:Storage:Postgres:ConnectionString is not valid: it names no Host.")]
    public void A_storage_that_cannot_work_is_refused_at_start_up_by_name(string provider, string? connectionString, string expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ApprovalBot:PolicyPath"] = Path.Combine(RepoPaths.Root, "examples", "policy.json"),
            ["ApprovalBot:Gateway:Upstreams:agentwork:Command"] = "dotnet",
            ["ApprovalBot:Storage:Provider"] = provider,
            ["ApprovalBot:Storage:Postgres:ConnectionString"] = connectionString,
        }).Build();

        var (result, errors) = Configuration.ConfigurationValidator.Validate(configuration, RepoPaths.NewTempDirectory());

        Assert.Null(result);
        Assert.Equal(expected, Assert.Single(errors));
        Assert.DoesNotContain("s3cret", string.Join("\n", errors), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080", "http://localhost:5080")]
    [InlineData("http://*:5080", "http://localhost:5080")]
    [InlineData("http://+:5080/", "http://localhost:5080/")]
    [InlineData("http://[::]:5080", "http://localhost:5080")]
    [InlineData("http://gateway.internal:5080", "http://gateway.internal:5080")]
    public void Listening_wildcards_are_called_as_localhost(string listening, string called)
    {
        Assert.Equal(called, CliConfiguration.ReachableUrl(listening));
    }

    [Fact]
    public async Task Dotnet_run_resolves_relative_cli_paths_against_the_callers_directory()
    {
        var directory = RepoPaths.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(directory, "mine.json"), TestPolicies.Standard);

        var (exit, output) = await DotnetRunAsync(directory, "policy", "validate", "mine.json").WaitAsync(TimeSpan.FromMinutes(3));

        Assert.True(exit == 0, output);
        Assert.Contains("mine.json: valid", output);
    }

    [Fact]
    public async Task Dotnet_run_watches_the_repositorys_policy_file()
    {
        var directory = RepoPaths.NewTempDirectory();
        var url = $"http://127.0.0.1:{AppProcess.FreePort()}";
        using var server = DotnetRun(directory, $"--urls={url}", $"--ApprovalBot:Console:AdminToken={Token}");
        try
        {
            var ready = await WaitForHealthAsync(server, url, TimeSpan.FromMinutes(3));
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            var body = JsonDocument.Parse(await http.GetStringAsync("/readyz")).RootElement;

            Assert.True(ready);
            Assert.Equal(Path.Combine(RepoPaths.Root, "examples", "policy.json"), body.GetProperty("policy").GetProperty("path").GetString());
            // The data directory is where the command was typed, too.
            Assert.True(Directory.Exists(Path.Combine(directory, "data")));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    private static Process Start(string workingDirectory, IDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(RepoPaths.ApprovalBotDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(int Exit, string Output)> RunAsync(string workingDirectory, IDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(RepoPaths.ApprovalBotDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return await CollectAsync(Process.Start(start)!);
    }

    private static Process DotnetRun(string workingDirectory, params string[] args)
    {
        var start = DotnetRunStart(workingDirectory, args);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static Task<(int Exit, string Output)> DotnetRunAsync(string workingDirectory, params string[] args) =>
        CollectAsync(Process.Start(DotnetRunStart(workingDirectory, args))!);

    /// <summary><c>dotnet run --project src/ApprovalBot</c> as the README has it, without building again.</summary>
    private static ProcessStartInfo DotnetRunStart(string workingDirectory, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var arg in new[] { "run", "--no-build", "-c", BuildConfiguration, "--project", Path.Combine(RepoPaths.Root, "src", "ApprovalBot"), "--" }.Concat(args))
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private static async Task<(int Exit, string Output)> CollectAsync(Process process)
    {
        using (process)
        {
            var output = new StringBuilder();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            output.Append(await stdout).Append(await stderr);
            return (process.ExitCode, output.ToString());
        }
    }

    private static async Task<bool> WaitForHealthAsync(Process server, string url, TimeSpan? within = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        return await Eventually.GetAsync<bool>(
            async () =>
            {
                if (server.HasExited)
                {
                    throw new InvalidOperationException($"approvalbot exited with {server.ExitCode}");
                }

                try
                {
                    return (await http.GetAsync("/readyz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            ok => ok,
            within ?? TimeSpan.FromSeconds(60),
            "approvalbot to be ready");
    }
}
