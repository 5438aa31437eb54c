using System.Diagnostics;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary><c>approvalbot approvals list|approve|deny</c> against a running host, as an operator uses them.</summary>
public sealed class CliApprovalsTests
{
    internal static async Task<(int Exit, string Output)> CliAsync(GatewayHost host, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = host.DataDirectory };
        start.ArgumentList.Add(RepoPaths.ApprovalBotDll);
        foreach (var arg in args.Concat(["--url", host.BaseUrl.ToString(), "--token", GatewayHost.AdminToken]))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task Operator_lists_approves_and_denies_from_the_terminal()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false);
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        var approved = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var first = (await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task")).GetProperty("id").GetString()!;

        var (listExit, list) = await CliAsync(host, "approvals", "list");
        Assert.Equal(0, listExit);
        Assert.Contains(first, list);
        Assert.Contains("agentwork_cancel_task", list);
        Assert.DoesNotContain(GatewayHost.SampleApiKey, list);

        var (approveExit, approveOut) = await CliAsync(host, "approvals", "approve", first);
        Assert.Equal(0, approveExit);
        Assert.Contains("Approved by console admin.", approveOut);
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>((await approved.WaitAsync(TimeSpan.FromSeconds(30))).Content[0]).Text);

        var denied = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-101", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var second = (await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task")).GetProperty("id").GetString()!;
        var (noCommentExit, _) = await CliAsync(host, "approvals", "deny", second);
        var (denyExit, _) = await CliAsync(host, "approvals", "deny", second, "--comment", "change freeze");
        var (againExit, again) = await CliAsync(host, "approvals", "approve", second);

        Assert.Equal(2, noCommentExit);
        Assert.Equal(0, denyExit);
        Assert.Contains("change freeze", Assert.IsType<TextContentBlock>((await denied.WaitAsync(TimeSpan.FromSeconds(30))).Content[0]).Text);
        Assert.Equal(1, againExit);
        Assert.Contains("Already denied by console admin.", again);
    }
}

/// <summary><c>approvalbot approvals approve ID --grant</c> and <c>approvalbot grants list|revoke</c> against a running host.</summary>
public sealed class CliGrantsTests
{
    [Fact]
    public async Task Operator_approves_for_an_hour_lists_and_revokes_the_grant_from_the_terminal()
    {
        await using var host = await GatewayHost.StartAsync(policy: GrantTests.Policy, withEverything: false);
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        var call = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var id = (await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task")).GetProperty("id").GetString()!;

        var (approveExit, approveOut) = await CliApprovalsTests.CliAsync(host, "approvals", "approve", id, "--grant", "1h");
        Assert.Equal(0, approveExit);
        Assert.Contains("for 1h", approveOut);
        var grantId = (await call.WaitAsync(TimeSpan.FromSeconds(30))).Meta!["approvalbot"]!["grantId"]!.GetValue<string>();

        var (listExit, list) = await Eventually.GetAsync<(int, string)?>(
            async () => await CliApprovalsTests.CliAsync(host, "grants", "list"),
            r => r?.Item2.Contains(grantId, StringComparison.Ordinal) == true,
            what: "the grant in 'grants list'") ?? default;
        Assert.Equal(0, listExit);
        Assert.Contains("agent=test-agent", list);
        Assert.Contains("1 grant(s)", list);

        var (revokeExit, revokeOut) = await CliApprovalsTests.CliAsync(host, "grants", "revoke", grantId);
        Assert.Equal(0, revokeExit);
        Assert.Contains("Grant revoked", revokeOut);
        var (againExit, again) = await CliApprovalsTests.CliAsync(host, "grants", "revoke", grantId);
        Assert.Equal(1, againExit);
        Assert.Contains("already ended (revoked by console admin)", again);
    }
}
