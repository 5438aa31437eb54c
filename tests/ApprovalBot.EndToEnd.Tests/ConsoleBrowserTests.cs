using System.Diagnostics;
using System.Text.Json.Nodes;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>The console page in Debian's headless chromium (playwright-core): list, approve, deny with a comment; the History view and a timeline.</summary>
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
        // Retry-mode call returned at once; the guarded one still waits.
        Assert.True((await deleteInventory).IsError);

        var screenshot = Path.Combine(host.DataDirectory, "console.png");
        var report = await RunBrowserAsync(host.BaseUrl, new object[]
        {
            new { tool = "agentwork_cancel_task", @do = "approve" },
            new { tool = "agentwork_delete_inventory", @do = "deny", comment = "prod inventory stays" },
        }, screenshot);

        Assert.Null(report["error"]);
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

    [Fact]
    public async Task A_person_filters_the_history_and_opens_an_approvals_timeline_in_the_browser()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false);
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        Assert.NotEqual(true, (await client.CallToolAsync("agentwork_list_tasks")).IsError);
        var cancelTask = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var id = (await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task")).GetProperty("id").GetString()!;
        await ConsoleApi.DecideAsync(console, id, approve: true, "export finished");
        await cancelTask.WaitAsync(TimeSpan.FromSeconds(30));
        await host.Get<Gateway.Storage.AuditTrail>().FlushAsync(CancellationToken.None);

        var screenshot = Path.Combine(host.DataDirectory, "history.png");
        var report = await RunScriptAsync("history-check.mjs", host.BaseUrl, "approved", screenshot);

        Assert.Null(report["error"]);
        Assert.Empty(report["errors"]!.AsArray());
        var all = report["all"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("allowed", all);
        Assert.Contains("held", all);
        Assert.Contains("executed", all);
        Assert.Equal(["approved"], report["filtered"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains("agentwork_cancel_task", report["title"]!.GetValue<string>());
        Assert.Contains("Executed", report["title"]!.GetValue<string>());
        var events = report["events"]!.AsArray().Select(e => (Kind: e!["kind"]!.GetValue<string>(), Text: e["text"]!.GetValue<string>())).ToList();
        Assert.Equal(["requested", "decision", "claimed", "execution"], events.Select(e => e.Kind));
        Assert.Contains("Approved by console:admin in console: export finished", events[1].Text);
        Assert.DoesNotContain(GatewayHost.SampleApiKey, report["pageText"]!.GetValue<string>());
        Assert.True(File.Exists(screenshot));
    }

    private static Task<JsonObject> RunBrowserAsync(Uri baseUrl, object actions, string screenshot) =>
        RunScriptAsync("console-check.mjs", baseUrl, System.Text.Json.JsonSerializer.Serialize(actions), screenshot);

    private static async Task<JsonObject> RunScriptAsync(string script, Uri baseUrl, string argument, string screenshot)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = RepoPaths.NodeTools, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, baseUrl.ToString().TrimEnd('/'), GatewayHost.AdminToken, argument, screenshot })
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
