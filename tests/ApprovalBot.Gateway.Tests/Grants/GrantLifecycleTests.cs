using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Tests.Parking;
using ModelContextProtocol.Protocol;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Grants;

/// <summary>Time-boxed grants on the real lifecycle and SQLite with a controlled clock: given, used, expired, revoked, ended by a policy change.</summary>
public sealed class GrantLifecycleTests : IAsyncLifetime
{
    private static readonly PolicyDecision Hourly = Rule(grants: [TimeSpan.FromMinutes(15), TimeSpan.FromHours(1)]);

    private readonly LifecycleHarness _h = new();

    public Task InitializeAsync() => _h.InitializeAsync();

    public Task DisposeAsync() => _h.DisposeAsync().AsTask();

    private static string? Decision(CallToolResult result) => result.Meta?["approvalbot"]?["decision"]?.GetValue<string>();

    /// <summary>Parks a call, approves it for 1h as Alice, waits for it to run; returns the grant id.</summary>
    private async Task<Guid> GrantAnHourAsync(PolicyDecision? rule = null)
    {
        var before = _h.Events.Requested.Count;
        var call = _h.CallAsync(rule ?? Hourly);
        var id = await _h.WaitForRequestAsync(before + 1);
        var outcome = await _h.DecideAsync(id, Alice, approve: true, grant: "1h");
        Assert.True(outcome.Accepted, outcome.Message);
        Assert.Equal("approved", Decision(await call.WaitAsync(TimeSpan.FromSeconds(10))));
        return outcome.GrantId!.Value;
    }

    [Fact]
    public async Task A_grant_lets_the_agents_later_calls_through_until_it_expires_then_they_park_again()
    {
        var grantId = await GrantAnHourAsync();
        Assert.Equal(grantId, Assert.Single(_h.Events.GrantsCreated).GrantId);
        Assert.Equal(_h.Time.GetUtcNow() + TimeSpan.FromHours(1), _h.Events.GrantsCreated.Single().ExpiresAt);

        _h.Time.Advance(TimeSpan.FromMinutes(59));
        var within = await _h.CallAsync(Hourly, Args("T-101")).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("allowed_by_grant", Decision(within));
        Assert.Equal(grantId.ToString(), within.Meta!["approvalbot"]!["grantId"]!.GetValue<string>());
        Assert.Single(_h.Events.Requested);
        Assert.Equal(2, _h.Executed.Count);

        _h.Time.Advance(TimeSpan.FromMinutes(1));
        var after = _h.CallAsync(Hourly, Args("T-102"));
        await _h.WaitForRequestAsync(2);
        Assert.False(after.IsCompleted);
        Assert.Equal(2, _h.Executed.Count);

        await _h.Grants.SweepAsync(CancellationToken.None);
        var ended = Assert.Single(_h.Events.GrantsEnded);
        Assert.Equal(GrantEndReasons.Expired, ended.Reason);
        Assert.Equal(grantId, ended.GrantId);
        var audit = await _h.AuditAsync(_h.Events.Requested.First().ApprovalId);
        Assert.Single(audit, a => a.Decision == "allowed_by_grant" && a.GrantId == grantId && a.Actor == Alice.Principal);
        Assert.Single(audit, a => a.Decision == "grant_expired" && a.GrantId == grantId);

        await _h.DecideAsync(_h.Events.Requested.Last().ApprovalId, Bob, approve: false, "enough");
        Assert.True((await after.WaitAsync(TimeSpan.FromSeconds(10))).IsError);
    }

    [Fact]
    public async Task Another_agent_and_other_arguments_of_an_arguments_scoped_grant_still_park()
    {
        await GrantAnHourAsync(Rule(grants: [TimeSpan.FromHours(1)], scope: GrantScope.Arguments));

        var same = await _h.CallAsync(Rule(grants: [TimeSpan.FromHours(1)], scope: GrantScope.Arguments)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("allowed_by_grant", Decision(same));

        var other = _h.CallAsync(Rule(grants: [TimeSpan.FromHours(1)], scope: GrantScope.Arguments), Args("T-101"));
        await _h.WaitForRequestAsync(2);
        var otherAgent = _h.CallAsync(Rule(grants: [TimeSpan.FromHours(1)], scope: GrantScope.Arguments), agent: "agent-2");
        await _h.WaitForRequestAsync(3);
        Assert.False(other.IsCompleted);
        Assert.False(otherAgent.IsCompleted);
        Assert.Equal(2, _h.Executed.Count);
        foreach (var request in _h.Events.Requested.Skip(1))
        {
            await _h.Lifecycle.WithdrawAsync(request.ApprovalId, "test over", CancellationToken.None);
        }

        await Task.WhenAll(other, otherAgent).WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_changed_rule_never_honours_the_grant_and_the_reconciliation_ends_it()
    {
        var grantId = await GrantAnHourAsync();

        // The same rule path with other content (e.g. a reload changed its approvers): no grant applies.
        var changed = Rule(grants: [TimeSpan.FromHours(1)], fingerprint: "rule-v2");
        var call = _h.CallAsync(changed, Args("T-101"));
        await _h.WaitForRequestAsync(2);
        Assert.False(call.IsCompleted);
        await _h.Lifecycle.WithdrawAsync(_h.Events.Requested.Last().ApprovalId, "test over", CancellationToken.None);
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        var removed = Core.Policy.Policy.Parse("""{ "version": "1", "default": "deny" }""").Policy!;
        await _h.Grants.ReconcileAsync(removed, CancellationToken.None);

        var ended = Assert.Single(_h.Events.GrantsEnded);
        Assert.Equal(GrantEndReasons.RuleRemoved, ended.Reason);
        Assert.Equal(grantId, ended.GrantId);
        Assert.NotNull((await _h.Store.GetGrantAsync(grantId, CancellationToken.None))!.EndedAt);
    }

    [Fact]
    public async Task Only_the_grantor_or_an_approver_may_revoke_and_the_next_call_parks()
    {
        var grantId = await GrantAnHourAsync();

        var refused = await _h.Grants.RevokeAsync(new GrantRevoke(grantId, Guid.NewGuid(), Mallory, null, "slack", _h.Time.GetUtcNow()), CancellationToken.None);
        Assert.False(refused.Accepted);
        Assert.Equal("allowed_by_grant", Decision(await _h.CallAsync(Hourly, Args("T-101")).WaitAsync(TimeSpan.FromSeconds(10))));

        var revoked = await _h.Grants.RevokeAsync(new GrantRevoke(grantId, Guid.NewGuid(), Bob, "too broad", "slack", _h.Time.GetUtcNow()), CancellationToken.None);
        Assert.True(revoked.Accepted, revoked.Message);
        var twice = await _h.Grants.RevokeAsync(new GrantRevoke(grantId, Guid.NewGuid(), Alice, null, "slack", _h.Time.GetUtcNow()), CancellationToken.None);
        Assert.False(twice.Accepted);
        Assert.Contains("revoked by Bob", twice.Message);

        var call = _h.CallAsync(Hourly, Args("T-102"));
        await _h.WaitForRequestAsync(2);
        Assert.False(call.IsCompleted);
        var ended = Assert.Single(_h.Events.GrantsEnded);
        Assert.Equal((GrantEndReasons.Revoked, Bob.Principal, "too broad"), (ended.Reason, ended.By?.Principal, ended.Comment));
        Assert.Contains(await _h.AuditAsync(_h.Events.Requested.First().ApprovalId), a => a.Decision == "revoke_refused" && a.Actor == Mallory.Principal);
        await _h.Lifecycle.WithdrawAsync(_h.Events.Requested.Last().ApprovalId, "test over", CancellationToken.None);
        await call.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_grant_outlives_the_process_and_a_duration_not_offered_is_refused()
    {
        await GrantAnHourAsync();

        var (lifecycle, restarted) = _h.NewProcess();
        var result = await _h.CallAsync(Hourly, Args("T-101"), gate: restarted).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("allowed_by_grant", Decision(result));

        _h.Time.Advance(TimeSpan.FromHours(2));
        var call = _h.CallAsync(Hourly, Args("T-102"), gate: restarted);
        var id = await _h.WaitForRequestAsync(2);
        var refused = await _h.DecideAsync(id, Alice, approve: true, grant: "8h");
        Assert.False(refused.Accepted);
        Assert.Contains("offered: 15m, 1h", refused.Message);
        Assert.Null(refused.GrantId);
        Assert.False(call.IsCompleted);
        await lifecycle.WithdrawAsync(id, "test over", CancellationToken.None);
        await call.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
