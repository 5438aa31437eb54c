using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>What an operator relies on: metrics, shadow mode, and a policy scan of real upstreams.</summary>
public sealed class OperationsTests
{
    [Fact]
    public async Task Prometheus_endpoint_counts_decisions_and_measures_overhead()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false, settings: ["--ApprovalBot:Telemetry:Prometheus=true"]);
        await using var client = await host.ConnectAsync();
        await client.CallToolAsync("agentwork_ping");
        await client.CallToolAsync("agentwork_ping");
        await client.CallToolAsync("agentwork_list_jobs");
        // Every gateway in this test process reports on a meter of the same name, and the exporter adds up
        // their series: a tool name nobody else calls gives a series that is this test's alone.
        var probe = "metrics_probe_" + Guid.NewGuid().ToString("N")[..8];
        await Assert.ThrowsAsync<McpProtocolException>(async () => await client.CallToolAsync(probe));
        await Assert.ThrowsAsync<McpProtocolException>(async () => await client.CallToolAsync(probe));
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        var metrics = await Eventually.GetAsync(
            async () => await http.GetStringAsync("/metrics"),
            m => m?.Contains(probe, StringComparison.Ordinal) == true,
            what: "the approvalbot metrics to be exported");

        Assert.Equal(2, Counted(metrics, "unknown", probe));
        Assert.True(Counted(metrics, "allowed", "agentwork_ping") >= 2, metrics);
        Assert.True(Counted(metrics, "allowed", "agentwork_list_jobs") >= 1, metrics);
        Assert.Contains("approvalbot_proxy_overhead", metrics);
        Assert.Contains("approvalbot_upstream_duration", metrics);
        Assert.Contains("approvalbot_approvals_parked_calls", metrics);
    }

    /// <summary>The calls counter for one decision and tool, over every series that has them (0 when there is none).</summary>
    private static long Counted(string metrics, string decision, string tool) =>
        metrics.Split('\n')
            .Where(l => l.StartsWith("approvalbot_calls_total{", StringComparison.Ordinal)
                && l.Contains($"decision=\"{decision}\"", StringComparison.Ordinal)
                && l.Contains($"tool=\"{tool}\"", StringComparison.Ordinal))
            .Sum(l => long.Parse(l[(l.IndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task Metrics_endpoint_is_off_unless_configured()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Shadow_mode_records_what_would_have_happened_and_lets_the_call_through()
    {
        var shadow = TestPolicies.Standard.Replace("\"default\": \"deny\",", "\"default\": \"deny\", \"mode\": \"shadow\",");
        await using var host = await GatewayHost.StartAsync(withEverything: false, policy: shadow);
        await using var client = await host.ConnectAsync();

        var result = await client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-102", ["api_key"] = GatewayHost.SampleApiKey });

        Assert.Equal("Task T-102 (Send invoices) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        await host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
        var rows = await host.Get<GatewayStore>().ReadAuditAsync(null, 50, CancellationToken.None);
        Assert.Contains(rows, r => r is { Decision: "shadow_held", Tool: "agentwork_cancel_task" });
    }

    [Fact]
    public async Task Policy_scan_writes_a_valid_starting_policy_from_real_upstreams()
    {
        var directory = RepoPaths.NewTempDirectory();
        var output = Path.Combine(directory, "scanned.json");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var arg in new[]
        {
            RepoPaths.ApprovalBotDll, "policy", "scan", "--out", output,
            $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}",
            "--ApprovalBot:Gateway:Upstreams:everything:Command=node",
            $"--ApprovalBot:Gateway:Upstreams:everything:Args:0={RepoPaths.EverythingServer}",
            "--ApprovalBot:Gateway:Upstreams:everything:Args:1=stdio",
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);
        Assert.True(process.ExitCode == 0, await stderr);

        var rules = JsonDocument.Parse(await File.ReadAllTextAsync(output)).RootElement.GetProperty("rules");
        Assert.Equal("require_approval", rules.GetProperty("agentwork_cancel_task").GetProperty("action").GetString());
        Assert.Contains("destructiveHint", rules.GetProperty("agentwork_cancel_task").GetProperty("reason").GetString());
        Assert.Equal("allow", rules.GetProperty("agentwork_list_tasks").GetProperty("action").GetString());
        Assert.Equal("allow", rules.GetProperty("everything_echo").GetProperty("action").GetString());
        Assert.False(rules.TryGetProperty("everything_toggle-simulated-logging", out _));
        Assert.True(Core.Policy.Policy.Parse(await File.ReadAllTextAsync(output)).Success);
    }
}
