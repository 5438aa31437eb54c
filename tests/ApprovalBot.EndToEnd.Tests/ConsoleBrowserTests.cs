using System.Diagnostics;
using System.Text.Json.Nodes;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>The console page in Debian's headless chromium (playwright-core): list, approve, deny with a comment.</summary>
public sealed class ConsoleBrowserTests
{
    [Fact]
    public async Task A_person_approves_one_call_and_denies_another_with_a_comment_in_the_browser()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false);
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        var cancelTask = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var deleteInventory = client.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = "prod" }).AsTask();
        await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        await ConsoleApi.WaitForPendingAsync(console, "agentwork_delete_inventory");
        // An agent controls its arguments: markup in them must show as text, never become an element or run.
        const string markup = """<img src=x onerror="window.__pwned=true"><b id="injected">bold</b><script>window.__pwned=true</script>""";
        var hostile = await client.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = markup });
        Assert.True(hostile.IsError);
        // Retry-mode call returned at once; the guarded one still waits.
        Assert.True((await deleteInventory).IsError);

        var screenshot = Path.Combine(host.DataDirectory, "console.png");
        var report = await RunBrowserAsync(host.BaseUrl, new object[]
        {
            new { tool = "agentwork_cancel_task", @do = "approve" },
            new { tool = "agentwork_delete_inventory", @do = "deny", comment = "prod inventory stays" },
        }, screenshot);

        Assert.Null(report["error"]);
        Assert.False(report["markupRan"]!.GetValue<bool>());
        Assert.Contains("<script>window.__pwned=true</script>", report["pageText"]!.GetValue<string>()); // shown, as text
        var before = report["pendingBefore"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("agentwork_cancel_task", before);
        Assert.Contains("agentwork_delete_inventory", before);
        Assert.Equal("Approved by console admin.", report["messages"]![0]!.GetValue<string>());
        Assert.Equal("Denied by console admin.", report["messages"]![1]!.GetValue<string>());
        Assert.DoesNotContain("token=", report["urlAfterLoad"]!.GetValue<string>());
        Assert.DoesNotContain(GatewayHost.SampleApiKey, report["pageText"]!.GetValue<string>());
        Assert.True(File.Exists(screenshot));

        var result = await cancelTask.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var denied = await ConsoleApi.ListAsync(console, "denied");
        Assert.Contains(denied, a => a.GetProperty("tool").GetString() == "agentwork_delete_inventory" && a.GetProperty("comment").GetString() == "prod inventory stays");
        var again = await client.CallToolAsync("agentwork_delete_inventory", new Dictionary<string, object?> { ["name"] = "prod" });
        Assert.True(again.IsError);
    }

    private static async Task<JsonObject> RunBrowserAsync(Uri baseUrl, object actions, string screenshot)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = RepoPaths.NodeTools, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "console-check.mjs", baseUrl.ToString().TrimEnd('/'), GatewayHost.AdminToken, System.Text.Json.JsonSerializer.Serialize(actions), screenshot })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return JsonNode.Parse(await stdout) as JsonObject ?? throw new InvalidOperationException("browser script printed nothing: " + await stderr);
    }
}
