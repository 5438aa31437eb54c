using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>The executable as a user starts it: refusing bad configuration, the stdio front, the CLI verbs, hot reload, upstream failure.</summary>
public sealed class StartupTests
{
    private static async Task<(int Exit, string Output)> RunCliAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.NewTempDirectory() };
        start.ArgumentList.Add(RepoPaths.ApprovalBotDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task Invalid_policy_at_start_up_stops_with_exit_2_and_names_the_field()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policy, """{"version":"1","default":"deny","rules":{"agentwork_cancel_task":{"acton":"deny"}}}""");

        var (exit, output) = await RunCliAsync($"--ApprovalBot:PolicyPath={policy}", $"--ApprovalBot:DataDirectory={directory}");

        Assert.Equal(2, exit);
        Assert.Contains("$.rules.agentwork_cancel_task", output);
        Assert.Contains("acton", output);
    }

    [Theory]
    [InlineData("gateway")]
    [InlineData("bot")]
    public async Task A_shared_store_that_cannot_be_reached_stops_with_exit_2_naming_it_without_its_password(string role)
    {
        var directory = RepoPaths.NewTempDirectory();
        var port = AppProcess.FreePort(); // nothing listens there

        var (exit, output) = await RunCliAsync(
            $"--ApprovalBot:DataDirectory={directory}",
            $"--ApprovalBot:Role={role}",
            "--ApprovalBot:Bus:Transport=RabbitMq",
            "--ApprovalBot:Bus:RabbitMq:Host=127.0.0.1",
            "--ApprovalBot:Storage:Provider=Postgres",
            $"--ApprovalBot:Storage:Postgres:ConnectionString=Host=127.0.0.1;Port={port};Database=approvals;Username=approvalbot",
            "--ApprovalBot:Storage:Postgres:Password=pg-password-never-shown",
            "--urls=http://127.0.0.1:0");

        Assert.Equal(2, exit);
        Assert.Contains($"approvalbot: refusing to start: the database postgres://127.0.0.1:{port}/approvals schema {role} cannot be used", output, StringComparison.Ordinal);
        Assert.DoesNotContain("pg-password-never-shown", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_configuration_problem_is_reported_at_once_without_secrets()
    {
        var directory = RepoPaths.NewTempDirectory();
        var (exit, output) = await RunCliAsync(
            $"--ApprovalBot:DataDirectory={directory}",
            "--ApprovalBot:PolicyPath=/nonexistent/policy.json",
            "--ApprovalBot:Bus:Transport=RabbitMq",
            "--ApprovalBot:Bus:RabbitMq:Host=",
            "--ApprovalBot:Gateway:Upstreams:both:Command=node",
            "--ApprovalBot:Gateway:Upstreams:both:Url=http://localhost:9/mcp",
            "--ApprovalBot:Slack:Enabled=true",
            "--ApprovalBot:Slack:BotToken=xoxb-very-secret-token",
            "--ApprovalBot:Teams:Enabled=true",
            "--ApprovalBot:Teams:AppPassword=teams-secret-value");

        Assert.Equal(2, exit);
        Assert.Contains("ApprovalBot:Bus:RabbitMq:Host is required", output);
        Assert.Contains("ApprovalBot:Gateway:Upstreams:both has both Command and Url", output);
        Assert.Contains("cannot read policy file /nonexistent/policy.json", output);
        Assert.Contains("ApprovalBot:Slack:SigningSecret", output);
        Assert.Contains("ApprovalBot:Teams:AppId", output);
        Assert.DoesNotContain("xoxb-very-secret-token", output);
        Assert.DoesNotContain("teams-secret-value", output);
    }

    [Fact]
    public async Task Policy_verbs_validate_explain_and_test()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policy, TestPolicies.Standard);
        var cases = Path.Combine(directory, "cases.json");
        await File.WriteAllTextAsync(cases, """
            [ {"agent":"a","tool":"agentwork_cancel_task","expect":"require_approval"},
              {"agent":"a","tool":"everything_get-env","expect":"hidden"},
              {"agent":"a","tool":"everything_get-tiny-image","expect":"deny"} ]
            """);
        var wrong = Path.Combine(directory, "wrong.json");
        await File.WriteAllTextAsync(wrong, """[ {"agent":"a","tool":"agentwork_cancel_task","expect":"allow"} ]""");

        var (validExit, validOut) = await RunCliAsync("policy", "validate", policy);
        var (explainExit, explainOut) = await RunCliAsync("policy", "explain", policy, "--tool", "everything_echo", "--agent", "ci");
        var (passExit, passOut) = await RunCliAsync("policy", "test", policy, cases);
        var (failExit, failOut) = await RunCliAsync("policy", "test", policy, wrong);

        Assert.Equal(0, validExit);
        Assert.Contains("valid (default deny", validOut);
        Assert.Equal(0, explainExit);
        Assert.Contains("decision: allow", explainOut);
        Assert.Contains("rule:     rules.everything_echo", explainOut);
        Assert.Equal(0, passExit);
        Assert.Contains("3 passed, 0 failed", passOut);
        Assert.Equal(1, failExit);
        Assert.Contains("FAIL [0] a agentwork_cancel_task: expected allow, got require_approval", failOut);
    }

    [Fact]
    public async Task Stdio_front_serves_a_client_that_launches_the_gateway()
    {
        var directory = RepoPaths.NewTempDirectory();
        var policy = Path.Combine(directory, "policy.json");
        await File.WriteAllTextAsync(policy, TestPolicies.Standard);
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = "dotnet",
            Arguments =
            [
                RepoPaths.ApprovalBotDll, "stdio",
                $"--ApprovalBot:PolicyPath={policy}", $"--ApprovalBot:DataDirectory={directory}",
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
                "--urls=http://127.0.0.1:0",
            ],
            WorkingDirectory = directory,
        });
        await using var client = await McpClient.CreateAsync(transport);

        var tools = await Eventually.GetAsync(async () => (await client.ListToolsAsync()).Select(t => t.Name).ToList(), t => t?.Count > 0, what: "tools over stdio");
        var allowed = await client.CallToolAsync("agentwork_list_jobs");
        var held = await client.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = "lab" });

        Assert.Contains("agentwork_list_jobs", tools);
        Assert.Contains("deploy-web", Assert.IsType<TextContentBlock>(allowed.Content[0]).Text);
        Assert.True(held.IsError);
        Assert.StartsWith("Waiting for approval", Assert.IsType<TextContentBlock>(held.Content[0]).Text);
    }

    [Fact]
    public async Task Hot_reload_applies_a_valid_policy_and_keeps_the_last_good_one_on_error()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false);
        await using var client = await host.ConnectAsync();
        Assert.NotEqual(true, (await client.CallToolAsync("agentwork_list_jobs")).IsError);

        await File.WriteAllTextAsync(host.PolicyPath, TestPolicies.Standard.Replace("\"agentwork_list_*\": { \"action\": \"allow\" }", "\"agentwork_list_*\": { \"action\": \"deny\", \"reason\": \"frozen\" }"));
        await Eventually.GetAsync(async () => (await client.CallToolAsync("agentwork_list_jobs")).IsError, e => e == true, what: "the reloaded policy to deny");

        await File.WriteAllTextAsync(host.PolicyPath, "{ \"version\": \"1\", \"default\": \"allow\", \"rulez\": {} }");
        var state = await Eventually.GetAsync(() => Task.FromResult<string?>(host.Get<Gateway.Policies.PolicyStore>().State.LastError), e => e is not null, what: "the bad reload to be refused");
        Assert.Contains("rulez", state);
        Assert.True((await client.CallToolAsync("agentwork_list_jobs")).IsError);
    }

    [Fact]
    public async Task Dead_upstream_is_reported_its_tools_fail_clearly_and_it_comes_back()
    {
        var directory = RepoPaths.NewTempDirectory();
        var pidFile = Path.Combine(directory, "upstream.pid");
        // A wrapper that records the sample's pid so the test can kill it like a crash would.
        var script = Path.Combine(directory, "upstream.sh");
        await File.WriteAllTextAsync(script, $"#!/bin/sh\necho $$ > {pidFile}\nexec dotnet {RepoPaths.SampleDll}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        await using var host = await GatewayHost.StartAsync(withEverything: false, dataDirectory: directory, settings: [$"--ApprovalBot:Gateway:Upstreams:agentwork:Command={script}"]);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        await using var client = await host.ConnectAsync();
        Assert.NotEqual(true, (await client.CallToolAsync("agentwork_ping")).IsError);

        Process.GetProcessById(int.Parse((await File.ReadAllTextAsync(pidFile)).Trim())).Kill();

        var notReady = await Eventually.GetAsync(async () => await http.GetAsync("/readyz"), r => r?.StatusCode == HttpStatusCode.ServiceUnavailable, what: "readiness to drop");
        var body = JsonDocument.Parse(await notReady.Content.ReadAsStringAsync()).RootElement;
        Assert.False(body.GetProperty("upstreams")[0].GetProperty("connected").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        await Eventually.GetAsync(async () => (await http.GetAsync("/readyz")).StatusCode, s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "the upstream to be restarted");
        await Eventually.GetAsync(async () => (await client.CallToolAsync("agentwork_ping")).IsError, e => e != true, what: "the tool to work again");
    }
}
