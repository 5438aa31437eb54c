using System.Text.RegularExpressions;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Hosting;
using MassTransit;
using MassTransit.UsageTracking;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// What the process says and to whom: one log line per call at the shipped levels, no MCP message
/// bodies whatever the configuration, and no usage telemetry to MassTransit's vendor.
/// </summary>
public sealed partial class QuietTests
{
    private const string Token = "quiet-test-admin-token-0123456789";

    [Fact]
    public async Task Shipped_levels_log_one_line_per_call_and_unknown_or_hidden_tools_without_a_stack_trace()
    {
        var directory = RepoPaths.NewTempDirectory();
        // AppProcess adds exactly the shipped levels (Default Information, Microsoft.AspNetCore Warning) to the shipped appsettings.json.
        await using var app = await AppProcess.StartAsync([$"--ApprovalBot:DataDirectory={directory}", $"--ApprovalBot:Console:AdminToken={Token}"]);
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(app.BaseUrl, "/mcp"), TransportMode = HttpTransportMode.StreamableHttp }));
        await client.CallToolAsync("agentwork_list_jobs");
        var before = await Eventually.GetAsync(() => Task.FromResult<string?>(app.Output), o => o?.Contains("allowed agentwork_list_jobs", StringComparison.Ordinal) == true, what: "the first call's line");

        await client.CallToolAsync("agentwork_list_jobs");
        await client.CallToolAsync("agentwork_list_tasks");
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("nope_nothing").AsTask());
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = "lab" }).AsTask());
        await client.CallToolAsync("agentwork_ping");
        // The console logger writes in order: once the last call's line is out, every earlier one is too.
        var output = await Eventually.GetAsync(() => Task.FromResult<string?>(app.Output), o => o?.Contains("allowed agentwork_ping", StringComparison.Ordinal) == true, what: "the last call's line");

        var entries = LogEntry().Matches(output[before.Length..]).Select(m => m.Value).ToList();
        Assert.True(entries.Count == 5, "expected one entry per call, got:\n" + output[before.Length..]);
        Assert.Single(entries, e => e.Contains("unknown nope_nothing", StringComparison.Ordinal));
        Assert.Single(entries, e => e.Contains("hidden agentwork_delete_inventory", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Mcp_message_bodies_are_not_logged_even_when_configuration_asks_for_trace()
    {
        var directory = RepoPaths.NewTempDirectory();
        var marker = "marker-" + Guid.NewGuid().ToString("n");
        await using var app = await AppProcess.StartAsync(
        [
            $"--ApprovalBot:DataDirectory={directory}", $"--ApprovalBot:Console:AdminToken={Token}",
            // Provider-specific rules outrank any filter added in code: the caps must hold anyway.
            "--Logging:Console:LogLevel:Default=Trace", "--Logging:Console:LogLevel:ModelContextProtocol=Trace", "--Logging:LogLevel:ModelContextProtocol=Trace",
        ]);
        await using var client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(app.BaseUrl, "/mcp"), TransportMode = HttpTransportMode.StreamableHttp }));

        // Arguments going in (a denied call still arrives as a whole message) and a tool result coming out.
        await client.CallToolAsync("agentwork_cancel_job", new Dictionary<string, object?> { ["id"] = 7, ["note"] = marker });
        var listed = await client.CallToolAsync("agentwork_list_jobs");
        await client.CallToolAsync("agentwork_ping");
        var output = await Eventually.GetAsync(() => Task.FromResult<string?>(app.Output), o => o?.Contains("allowed agentwork_ping", StringComparison.Ordinal) == true, what: "the last call's line");

        Assert.Contains("deploy-web", listed.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Single().Text);
        Assert.Contains("dbug: ModelContextProtocol", output);
        Assert.DoesNotContain(marker, output);
        Assert.DoesNotContain("deploy-web", output);
        Assert.DoesNotContain("trce: ModelContextProtocol", output);
    }

    [Fact]
    public async Task MassTransit_usage_telemetry_is_off()
    {
        var directory = RepoPaths.NewTempDirectory();
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.json"), TestPolicies.Standard);
        var (app, errors) = ServerHost.Build(
            [
                "--urls=http://127.0.0.1:0", $"--ApprovalBot:DataDirectory={directory}", $"--ApprovalBot:PolicyPath={Path.Combine(directory, "policy.json")}",
                $"--ApprovalBot:Gateway:Upstreams:agentwork:Args:0={RepoPaths.SampleDll}", $"--ApprovalBot:Console:AdminToken={Token}",
            ],
            stdio: false,
            TextWriter.Null);
        Assert.True(app is not null, string.Join("; ", errors));
        await using (app)
        {
            Assert.False(app.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
            // Not MassTransit's tracker at all, so MASSTRANSIT_USAGE_TELEMETRY=true cannot switch it back on.
            Assert.IsNotType<UsageTracker>(app.Services.GetRequiredService<IUsageTracker>());
            Assert.NotNull(app.Services.GetRequiredService<IBusControl>());
        }
    }

    /// <summary>A console logger entry: the header ("info: Category[EventId]") and its first message line.</summary>
    [GeneratedRegex(@"^(trce|dbug|info|warn|fail|crit): [^\n]*\n[^\n]*", RegexOptions.Multiline)]
    private static partial Regex LogEntry();
}
