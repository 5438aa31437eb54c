using ApprovalBot.Core.Policy;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Parking;

/// <summary>Escalation and the reminder before expiry, with a controlled clock.</summary>
public sealed class EscalationTests : IAsyncLifetime
{
    private static readonly PolicyDecision Escalating = Rule(
        approvers: [Alice.Principal], timeout: TimeSpan.FromMinutes(15), escalate: new EscalationRule(TimeSpan.FromMinutes(10), [Bob.Principal]));

    private readonly LifecycleHarness _h = new();

    public Task InitializeAsync() => _h.InitializeAsync();

    public Task DisposeAsync() => _h.DisposeAsync().AsTask();

    [Fact]
    public async Task After_the_delay_the_escalation_approvers_are_added_told_and_may_decide()
    {
        var call = _h.CallAsync(Escalating);
        var id = await _h.WaitForRequestAsync();

        var early = await _h.DecideAsync(id, Bob, approve: true);
        Assert.False(early.Accepted);
        Assert.Contains("not an approver", early.Message);

        _h.Time.Advance(TimeSpan.FromMinutes(9));
        await _h.Lifecycle.SweepAsync(CancellationToken.None);
        Assert.Empty(_h.Events.Escalated);

        _h.Time.Advance(TimeSpan.FromMinutes(1));
        await _h.Lifecycle.SweepAsync(CancellationToken.None);
        await _h.Lifecycle.SweepAsync(CancellationToken.None);
        var escalated = Assert.Single(_h.Events.Escalated);
        Assert.Equal([Bob.Principal], escalated.Added);
        Assert.Equal([Alice.Principal, Bob.Principal], escalated.Approvers);
        Assert.Equal([Alice.Principal, Bob.Principal], (await _h.Store.GetApprovalAsync(id, default))!.Approvers);
        Assert.Contains(await _h.AuditAsync(id), a => a.Decision == "escalated");

        var outcome = await _h.DecideAsync(id, Bob, approve: true);
        Assert.True(outcome.Accepted, outcome.Message);
        Assert.Equal("done", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>((await call.WaitAsync(TimeSpan.FromSeconds(10))).Content[0]).Text);
        Assert.Contains(await _h.AuditAsync(id), a => a is { Decision: "approved", Actor: "slack:UBOB" });
    }

    [Fact]
    public async Task An_approval_about_to_expire_gets_one_reminder_and_a_decided_one_none()
    {
        var waiting = _h.CallAsync(Rule(timeout: TimeSpan.FromMinutes(15)));
        var id = await _h.WaitForRequestAsync();
        var decided = _h.CallAsync(Rule(timeout: TimeSpan.FromMinutes(15)), Args("T-101"));
        var other = await _h.WaitForRequestAsync(2);
        await _h.DecideAsync(other, Alice, approve: false, "no");
        await decided.WaitAsync(TimeSpan.FromSeconds(10));

        _h.Time.Advance(TimeSpan.FromMinutes(11));
        await _h.Lifecycle.SweepAsync(CancellationToken.None);
        Assert.Empty(_h.Events.Reminders);

        _h.Time.Advance(TimeSpan.FromMinutes(1));
        await _h.Lifecycle.SweepAsync(CancellationToken.None);
        _h.Time.Advance(TimeSpan.FromMinutes(1));
        await _h.Lifecycle.SweepAsync(CancellationToken.None);

        var reminder = Assert.Single(_h.Events.Reminders);
        Assert.Equal(id, reminder.ApprovalId);
        Assert.Single(await _h.AuditAsync(id), a => a.Decision == "reminded");
        Assert.Empty(_h.Events.Escalated); // no escalate option: nobody else is asked

        await _h.DecideAsync(id, Alice, approve: false, "no");
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_short_lived_approval_gets_no_reminder()
    {
        var call = _h.CallAsync(Rule(timeout: TimeSpan.FromMinutes(4)));
        var id = await _h.WaitForRequestAsync();

        _h.Time.Advance(TimeSpan.FromMinutes(3.5));
        await _h.Lifecycle.SweepAsync(CancellationToken.None);

        Assert.Empty(_h.Events.Reminders);
        await _h.DecideAsync(id, Alice, approve: false, "no");
        await call.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
