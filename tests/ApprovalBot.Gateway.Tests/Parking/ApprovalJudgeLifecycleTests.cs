using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;
using ModelContextProtocol.Protocol;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Parking;

/// <summary>The judge's rules as the lifecycle applies them: a late decision before the sweeper, a deny in the middle of a quorum.</summary>
public sealed class ApprovalJudgeLifecycleTests : IAsyncLifetime
{
    private readonly LifecycleHarness _h = new();

    public Task InitializeAsync() => _h.InitializeAsync();

    public Task DisposeAsync() => _h.DisposeAsync().AsTask();

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    [Fact]
    public async Task A_decision_after_the_deadline_but_before_the_sweeper_expires_the_approval_instead()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(wait: ApprovalWait.Retry, timeout: TimeSpan.FromMinutes(5))));
        _h.Time.Advance(TimeSpan.FromMinutes(5)); // due, but no sweep has run

        var late = await _h.DecideAsync(id, Alice, approve: true);

        Assert.Equal(new Core.Contracts.ApprovalDecisionOutcome(id, false, "Expired", "This approval has expired; nobody decided in time."), late);
        Assert.Equal(ApprovalStatus.Expired, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        await Eventually.TrueAsync(() => _h.Events.Resolved.Any(r => r.ApprovalId == id && r.Status == "Expired"), "ApprovalResolved(Expired)");
        var again = await _h.CallAsync(Rule(wait: ApprovalWait.Retry, timeout: TimeSpan.FromMinutes(5)));
        Assert.StartsWith("Expired: nobody decided", Text(again));
        Assert.Empty(_h.Executed);
    }

    [Fact]
    public async Task A_deny_in_the_middle_of_a_quorum_ends_the_approval_and_nothing_runs()
    {
        var call = _h.CallAsync(Rule(required: 2));
        var id = await _h.WaitForRequestAsync();

        var counted = await _h.DecideAsync(id, Alice, approve: true);
        var denied = await _h.DecideAsync(id, Bob, approve: false, "not this one");
        var afterwards = await _h.DecideAsync(id, Alice, approve: true);

        Assert.Equal("Approval 1 of 2 recorded; 1 more needed.", counted.Message);
        Assert.Equal(("Denied", true), (denied.Status, denied.Accepted));
        Assert.Equal("Already denied by Bob.", afterwards.Message);
        Assert.Equal("Denied: Bob denied agentwork_cancel_task (not this one). The call was not made.", Text(await call.WaitAsync(TimeSpan.FromSeconds(30))));
        Assert.Empty(_h.Executed);
        var record = (await _h.Store.GetApprovalAsync(id, default))!;
        Assert.Equal(ApprovalStatus.Denied, record.Status);
        Assert.Equal(["slack:UALICE"], record.ApprovedBy); // the counted vote stays on record, the deny decided
    }
}
