using System.Diagnostics;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Xunit.Abstractions;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>Every card the Teams channel produces parses cleanly in the official `adaptivecards` npm parser.</summary>
public sealed class TeamsAdaptiveCardsTests(ITestOutputHelper output)
{
    private static readonly SemaphoreSlim NpmGate = new(1, 1);

    /// <summary>All the card shapes the bot can send.</summary>
    public static IReadOnlyList<(string Name, JsonObject Card)> AllCards()
    {
        var now = new DateTimeOffset(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
        var pending = TeamsTestApprovals.Pending(now);
        var anyone = TeamsTestApprovals.Pending(now, approvers: [], approvalsRequired: 2);
        var hugeArguments = new JsonObject();
        for (var i = 0; i < 500; i++)
        {
            hugeArguments[$"field_{i}"] = new string('x', 50);
        }

        var huge = TeamsTestApprovals.Pending(now, arguments: hugeArguments.ToJsonString());
        var notJson = TeamsTestApprovals.Pending(now, arguments: "<not json>");
        var ada = new Approver("teams", TeamsTestHost.ApproverAadId, "Ada Approver", TeamsTestHost.TenantId);
        var sam = new Approver("slack", "U024BE7LH", "sam");

        var gateway = new GatewayHeartbeat("gateway-1", "1.4.2", "deny by default; 7 rules", "deny", 7, now.AddHours(-3),
            [new UpstreamHealth("agentwork", true, 6, null), new UpstreamHealth("awx", false, 0, "connection refused")],
            2, new DecisionCounts(120, 4, 2, 3), now.AddSeconds(-4));
        var offline = gateway with { Instance = "gateway-2", PolicyLoadedAt = null, Upstreams = [], PolicySummary = "" };
        var snapshot = new StatusSnapshot(
            [new GatewayStatus(gateway, now.AddSeconds(-4), true), new GatewayStatus(offline, now.AddMinutes(-10), false)],
            [pending, anyone],
            14,
            new TodayCounts(3, 1, 1, 0, 120, 4),
            now);
        var empty = new StatusSnapshot([], [], 0, new TodayCounts(0, 0, 0, 0, 0, 0), now);
        var notWaiting = pending with { AgentWaiting = false };
        var awaiting = pending with { Status = ApprovalStatus.Approved, DecidedBy = ada, ResolvedAt = now, CollectBy = now.AddMinutes(30) };
        var withCollection = snapshot with
        {
            Pending = [pending, notWaiting],
            AwaitingCollection = [awaiting],
            AwaitingCollectionTotal = 3,
            Today = snapshot.Today with { Lapsed = 1 },
        };

        var grantable = pending with { Request = pending.Request with { Grants = ["15m", "1h", "8h"], GrantScope = "arguments" } };
        var granted = grantable with { Status = ApprovalStatus.Approved, DecidedBy = ada, ResolvedAt = now, GrantId = Guid.NewGuid(), GrantUntil = now.AddHours(1) };
        var grant = new GrantView(new GrantCreated(
            Guid.NewGuid(), pending.Id, "ci-bot", "agentwork_cancel_task", "agentwork", "rules.agentwork_cancel_task", "tool", null, ada, "teams",
            now, now.AddHours(1), [], new Uri("queue:approvalbot-gateway-gw"), "gw"));
        var withGrants = snapshot with { ActiveGrants = [grant, grant with { Grant = grant.Grant with { GrantId = Guid.NewGuid(), Scope = "arguments" } }], ActiveGrantsTotal = 12 };

        return
        [
            ("approval", TeamsCard.Approval(pending, now)),
            ("approval with three grant durations", TeamsCard.Approval(grantable, now)),
            ("approval, escalated", TeamsCard.Approval(pending with { EscalatedAt = now, EscalatedTo = ["group-member", "teams:" + TeamsTestHost.ApproverAadId] }, now)),
            ("escalation notice", TeamsCard.Escalated(pending, ["teams:" + TeamsTestHost.ApproverAadId, "slack:U1"], now)),
            ("approval, editable, with grants", TeamsCard.Approval(grantable with { Request = grantable.Request with { Editable = true } }, now)),
            ("final approved with changed arguments", TeamsCard.Final(granted with { GrantId = null, GrantUntil = null, EditedArguments = "{\"task_id\":\"T-2\",\"api_key\":\"[redacted]\"}" }, now)),
            ("final approved for a while", TeamsCard.Final(granted, now, "Approved by Ada Approver for 1h.")),
            ("grants", TeamsStatusCard.Grants(withGrants.ActiveGrants, withGrants.ActiveGrantsTotal, now)),
            ("grants, none, with notice", TeamsStatusCard.Grants([], 0, now, "Grant revoked: calls ask for approval again.")),
            ("status with grants", TeamsStatusCard.Status(withGrants)),
            ("approval, anyone, quorum, notice", TeamsCard.Approval(anyone, now, "Approval 1 of 2 recorded; 1 more needed.")),
            ("approval, huge arguments", TeamsCard.Approval(huge, now)),
            ("approval, arguments not JSON", TeamsCard.Approval(notJson, now)),
            ("approval, overdue", TeamsCard.Approval(pending, now.AddHours(1))),
            ("approval, agent not waiting", TeamsCard.Approval(notWaiting, now)),
            ("final approved", TeamsCard.Final(pending with { Status = ApprovalStatus.Approved, DecidedBy = ada, ResolvedAt = now }, now, "Approved by Ada Approver.")),
            ("final approved, awaiting collection", TeamsCard.Final(awaiting, now)),
            ("final approved, awaiting collection past midnight", TeamsCard.Final(awaiting with { CollectBy = now.AddDays(1) }, now)),
            ("final approved, collected and executed", TeamsCard.Final(awaiting with { Succeeded = true, ExecutionSummary = "Task T-1042 cancelled." }, now)),
            ("final executed", TeamsCard.Final(pending with { Status = ApprovalStatus.Executed, DecidedBy = ada, ResolvedAt = now, Succeeded = true, ExecutionSummary = "Task T-1042 cancelled." }, now)),
            ("final execution failed", TeamsCard.Final(pending with { Status = ApprovalStatus.ExecutionFailed, DecidedBy = ada, ResolvedAt = now, Succeeded = false, ExecutionSummary = "upstream error: 500" }, now)),
            ("final lapsed", TeamsCard.Final(awaiting with { Status = ApprovalStatus.Lapsed }, now)),
            ("final denied with comment", TeamsCard.Final(pending with { Status = ApprovalStatus.Denied, DecidedBy = sam, Comment = "use the AWX UI", ResolvedAt = now }, now)),
            ("final expired", TeamsCard.Final(pending with { Status = ApprovalStatus.Expired, ResolvedAt = now }, now)),
            ("final cancelled", TeamsCard.Final(pending with { Status = ApprovalStatus.Cancelled, ResolvedAt = now }, now)),
            ("final withdrawn with comment", TeamsCard.Final(pending with { Status = ApprovalStatus.Cancelled, DecidedBy = ada, Comment = "[not needed](https://evil.example)", ResolvedAt = now }, now)),
            ("error with approval", TeamsCard.Error("Not an approver", "Bob is not an approver for agentwork_cancel_task. Nothing was decided.", pending)),
            ("error alone", TeamsCard.Error("Unknown approval", "Approval 123 is not known to ApprovalBot. Nothing was decided.")),
            ("status", TeamsStatusCard.Status(snapshot)),
            ("status, nothing yet", TeamsStatusCard.Status(empty)),
            ("status, waiting and awaiting collection", TeamsStatusCard.Status(withCollection)),
            ("pending, awaiting collection", TeamsStatusCard.Pending(withCollection)),
            ("pending", TeamsStatusCard.Pending(snapshot)),
            ("pending, none", TeamsStatusCard.Pending(empty)),
            ("help", TeamsStatusCard.Help()),
        ];
    }

    [Fact]
    public async Task Every_card_parses_without_errors_or_warnings_in_the_adaptivecards_package()
    {
        await EnsureNodeModulesAsync();
        var cards = new JsonArray();
        foreach (var (name, card) in AllCards())
        {
            cards.Add(new JsonObject { ["name"] = name, ["card"] = card });
        }

        var file = Path.Combine(Path.GetTempPath(), $"approvalbot-teams-cards-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, cards.ToJsonString());
        try
        {
            var script = Path.Combine(TeamsPaths.TestProject, "Teams", "adaptivecards-check.mjs");
            var (exitCode, stdout, stderr) = await RunAsync("node", [script, file], TeamsPaths.TestProject, TimeSpan.FromMinutes(2));
            output.WriteLine(stdout);
            output.WriteLine(stderr);
            Assert.True(exitCode == 0, $"adaptivecards found problems (exit {exitCode}):\n{stdout}\n{stderr}");
            Assert.Contains($"{cards.Count} cards ok", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_checker_does_report_a_broken_card()
    {
        await EnsureNodeModulesAsync();
        var broken = new JsonObject
        {
            ["type"] = "AdaptiveCard",
            ["version"] = "1.5",
            ["body"] = new JsonArray(
                new JsonObject { ["type"] = "TextBlock", ["text"] = "x", ["weight"] = "Heavy" },
                new JsonObject { ["type"] = "Input.Text", ["id"] = "a", ["isMultiLine"] = true },
                new JsonObject { ["type"] = "Input.Text", ["id"] = "a" }),
        };
        var file = Path.Combine(Path.GetTempPath(), $"approvalbot-teams-broken-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, new JsonArray(new JsonObject { ["name"] = "broken", ["card"] = broken }).ToJsonString());
        try
        {
            var script = Path.Combine(TeamsPaths.TestProject, "Teams", "adaptivecards-check.mjs");
            var (exitCode, stdout, _) = await RunAsync("node", [script, file], TeamsPaths.TestProject, TimeSpan.FromMinutes(2));
            Assert.Equal(1, exitCode);
            Assert.Contains("InvalidPropertyValue", stdout, StringComparison.Ordinal);
            Assert.Contains("DuplicateId", stdout, StringComparison.Ordinal);
            Assert.Contains("isMultiLine: not understood", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Installs the pinned packages (npm ci) when node_modules is missing.</summary>
    private async Task EnsureNodeModulesAsync()
    {
        var marker = Path.Combine(TeamsPaths.TestProject, "node_modules", "adaptivecards", "package.json");
        await NpmGate.WaitAsync();
        try
        {
            if (File.Exists(marker))
            {
                return;
            }

            var (exitCode, stdout, stderr) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], TeamsPaths.TestProject, TimeSpan.FromMinutes(8));
            output.WriteLine(stdout);
            Assert.True(exitCode == 0, $"npm ci failed (exit {exitCode}):\n{stdout}\n{stderr}");
            Assert.True(File.Exists(marker), "npm ci did not install adaptivecards");
        }
        finally
        {
            NpmGate.Release();
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string fileName, string[] arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout}");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
