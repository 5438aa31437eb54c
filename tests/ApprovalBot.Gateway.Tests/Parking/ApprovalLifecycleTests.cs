using System.Text.Json;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Parking;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Parking;

/// <summary>The lifecycle with a controlled clock: every transition, every refusal.</summary>
public sealed class ApprovalLifecycleTests : IAsyncLifetime
{
    private readonly LifecycleHarness _h = new();

    public Task InitializeAsync() => _h.InitializeAsync();

    public Task DisposeAsync() => _h.DisposeAsync().AsTask();

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    [Fact]
    public async Task Approve_releases_the_call_with_the_exact_arguments()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();
        Assert.False(call.IsCompleted);
        Assert.DoesNotContain("sk-live-secret", _h.Events.Requested.Single().RedactedArguments);

        var outcome = await _h.DecideAsync(id, Alice, approve: true);

        Assert.True(outcome.Accepted);
        Assert.Equal("done", Text(await call));
        var executed = Assert.Single(_h.Executed);
        Assert.Equal("sk-live-secret", executed!["api_key"].GetString());
        Assert.Equal(ApprovalStatus.Executed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        Assert.Contains(await _h.AuditAsync(id), a => a is { Decision: "approved", Actor: "slack:UALICE", Channel: "slack" });
    }

    [Fact]
    public async Task Deny_never_runs_and_names_who_and_why()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();

        await _h.DecideAsync(id, Bob, approve: false, "not during the release");

        var result = await call;
        Assert.True(result.IsError);
        Assert.Equal("Denied: Bob denied agentwork_cancel_task (not during the release). The call was not made.", Text(result));
        Assert.Empty(_h.Executed);
        Assert.Equal("Denied", Assert.Single(_h.Events.Resolved).Status);
    }

    [Fact]
    public async Task Expires_on_the_clock_and_says_expired_not_denied()
    {
        var call = _h.CallAsync(Rule(timeout: TimeSpan.FromMinutes(15)));
        var id = await _h.WaitForRequestAsync();
        // The call's own expiry timer is armed (no sleeping: moving the clock before would miss it).
        await _h.Time.WaitForTimerAsync(TimeSpan.FromMinutes(15));

        _h.Time.Advance(TimeSpan.FromMinutes(14));
        Assert.False(call.IsCompleted);
        _h.Time.Advance(TimeSpan.FromMinutes(1));

        var result = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("Expired: nobody decided", Text(result));
        Assert.Empty(_h.Executed);
        Assert.Equal(ApprovalStatus.Expired, (await _h.Store.GetApprovalAsync(id, default))!.Status);

        var late = await _h.DecideAsync(id, Alice, approve: true);
        Assert.False(late.Accepted);
        Assert.Equal("Already expired by timeout.", late.Message);
    }

    [Fact]
    public async Task Sweeper_expires_approvals_nobody_waits_for()
    {
        var result = await _h.CallAsync(Rule(wait: Core.Policy.ApprovalWait.Retry, timeout: TimeSpan.FromMinutes(5)));
        var id = Guid.Parse(result.Meta!["approvalbot"]!["approvalId"]!.GetValue<string>());

        _h.Time.Advance(TimeSpan.FromMinutes(5));
        await _h.Lifecycle.SweepAsync(default);

        Assert.Equal(ApprovalStatus.Expired, (await _h.Store.GetApprovalAsync(id, default))!.Status);
    }

    [Fact]
    public async Task A_client_that_gives_up_only_detaches_and_the_approval_stays_pending()
    {
        using var cts = new CancellationTokenSource();
        var call = _h.CallAsync(Rule(), cancellationToken: cts.Token);
        var id = await _h.WaitForRequestAsync();

        await cts.CancelAsync();

        var result = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("pending", result.Meta!["approvalbot"]!["status"]!.GetValue<string>());
        Assert.Equal(ApprovalStatus.Pending, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        Assert.False(Assert.Single(_h.Events.Waiting).AgentWaiting);
        Assert.Empty(_h.Executed);
    }

    [Fact]
    public async Task Second_decision_changes_nothing()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();
        await _h.DecideAsync(id, Alice, approve: true);
        await call;

        var second = await _h.DecideAsync(id, Bob, approve: false, "no");

        Assert.False(second.Accepted);
        Assert.Equal("Already approved by Alice.", second.Message);
        Assert.Single(_h.Executed);
        Assert.Single(_h.Events.Resolved);
    }

    [Fact]
    public async Task Redelivered_decision_message_is_ignored()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();
        var decision = new Core.Contracts.ApprovalDecision(id, Guid.NewGuid(), false, Alice, "no", _h.Time.GetUtcNow(), "slack");

        Assert.True((await _h.Lifecycle.DecideAsync(decision, default)).Accepted);
        var again = await _h.Lifecycle.DecideAsync(decision, default);

        Assert.False(again.Accepted);
        Assert.Equal("This decision was already received.", again.Message);
        await call;
        Assert.Single(_h.Events.Resolved);
    }

    [Fact]
    public async Task Someone_not_in_approvers_is_refused_audited_and_changes_nothing()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();

        var outcome = await _h.DecideAsync(id, Mallory, approve: true);

        Assert.False(outcome.Accepted);
        Assert.Equal("Mallory is not an approver for agentwork_cancel_task.", outcome.Message);
        Assert.Equal(ApprovalStatus.Pending, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        Assert.Contains(await _h.AuditAsync(id), a => a is { Decision: "decision_refused", Actor: "slack:UMALLORY" });
        Assert.False(call.IsCompleted);
        await _h.DecideAsync(id, Alice, approve: false);
        await call;
    }

    [Fact]
    public async Task Quorum_of_two_needs_two_distinct_approvers()
    {
        var call = _h.CallAsync(Rule(required: 2));
        var id = await _h.WaitForRequestAsync();

        var first = await _h.DecideAsync(id, Alice, approve: true);
        var repeat = await _h.DecideAsync(id, Alice, approve: true);
        Assert.True(first.Accepted);
        Assert.Equal("Approval 1 of 2 recorded; 1 more needed.", first.Message);
        Assert.False(repeat.Accepted);
        Assert.False(call.IsCompleted);
        var vote = Assert.Single(_h.Events.Voted);
        Assert.Equal((Alice.Principal, 1, 2), (vote.By.Principal, vote.Votes, vote.Required));
        Assert.Empty(_h.Events.Resolved);

        var second = await _h.DecideAsync(id, Bob, approve: true);

        Assert.Equal("Approved", second.Status);
        Assert.Equal("done", Text(await call));
        Assert.Equal(["slack:UALICE", "slack:UBOB"], (await _h.Store.GetApprovalAsync(id, default))!.ApprovedBy);
    }

    [Fact]
    public async Task Arguments_that_differ_from_the_approved_digest_never_run()
    {
        var arguments = Args("T-100");
        var call = _h.CallAsync(Rule(), arguments);
        var id = await _h.WaitForRequestAsync();
        // Something changes the arguments object after the approval was requested.
        arguments["task_id"] = JsonSerializer.SerializeToElement("T-999");

        await _h.DecideAsync(id, Alice, approve: true);

        var result = await call;
        Assert.True(result.IsError);
        Assert.Contains("arguments differ", Text(result));
        Assert.Empty(_h.Executed);
        // Not claimed: the approval still belongs to the arguments that were approved.
        Assert.Equal(ApprovalStatus.Approved, (await _h.Store.GetApprovalAsync(id, default))!.Status);
    }

    [Fact]
    public async Task Bus_down_still_expires_on_time_and_republishes_later()
    {
        _h.Events.Down = true;
        var call = _h.CallAsync(Rule(timeout: TimeSpan.FromMinutes(1)));
        // Nothing reaches the bus: wait for the call's expiry timer itself, not for a guessed time.
        await _h.Time.WaitForTimerAsync(TimeSpan.FromMinutes(1));
        _h.Time.Advance(TimeSpan.FromMinutes(1));

        var result = await call.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("Expired", Text(result));
        Assert.Empty(_h.Events.Requested);

        _h.Events.Down = false;
        await _h.Lifecycle.RepublishAsync(default);
        Assert.Single(_h.Events.Requested);
        Assert.Equal("Expired", Assert.Single(_h.Events.Resolved).Status);
    }

    [Fact]
    public async Task Restart_keeps_pending_approvals_and_the_identical_call_collects_once()
    {
        using var gone = new CancellationTokenSource();
        var call = _h.CallAsync(Rule(), cancellationToken: gone.Token);
        var id = await _h.WaitForRequestAsync();
        await gone.CancelAsync();
        await call;
        var (lifecycle, gate) = _h.NewProcess();

        await lifecycle.RecoverAfterRestartAsync(default);
        Assert.Equal(ApprovalStatus.Pending, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        Assert.Empty(_h.Events.Resolved);

        await lifecycle.DecideAsync(new Core.Contracts.ApprovalDecision(id, Guid.NewGuid(), true, Alice, null, _h.Time.GetUtcNow(), "slack"), default);
        var collected = await _h.CallAsync(Rule(), gate: gate);
        var again = await _h.CallAsync(Rule(hold: TimeSpan.Zero), gate: gate);

        Assert.Equal("done", Text(collected));
        Assert.Single(_h.Executed);
        Assert.Equal(ApprovalStatus.Executed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        // After the execution, the same call asks anew.
        Assert.NotEqual(id, ApprovalIdOf(again));
    }

    [Fact]
    public async Task Held_call_is_handed_back_after_the_hold_and_the_identical_call_collects_after_approval()
    {
        var first = _h.CallAsync(Rule(hold: TimeSpan.FromSeconds(40)));
        var id = await _h.WaitForRequestAsync();
        await _h.Time.WaitForTimerAsync(TimeSpan.FromSeconds(40));
        _h.Time.Advance(TimeSpan.FromSeconds(40));

        var handedBack = await first.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(handedBack.IsError);
        Assert.StartsWith("Waiting for approval: agentwork_cancel_task", Text(handedBack));
        Assert.Contains("exactly the same arguments", Text(handedBack));
        Assert.Equal("pending", handedBack.Meta!["approvalbot"]!["status"]!.GetValue<string>());
        Assert.Equal(id, ApprovalIdOf(handedBack));
        Assert.True(handedBack.Meta!["approvalbot"]!["retryAfterSeconds"]!.GetValue<int>() > 0);
        Assert.Equal(ApprovalStatus.Pending, (await _h.Store.GetApprovalAsync(id, default))!.Status);

        await _h.DecideAsync(id, Alice, approve: true);
        Assert.NotNull(Assert.Single(_h.Events.Resolved).CollectBy);

        var collected = await _h.CallAsync(Rule(hold: TimeSpan.FromSeconds(40)));
        Assert.Equal("done", Text(collected));
        Assert.Single(_h.Executed);
        Assert.Single(_h.Events.Requested);
        Assert.Contains(await _h.AuditAsync(id), a => a.Decision == "redeemed");
    }

    [Fact]
    public async Task Ten_identical_calls_after_approval_run_upstream_once()
    {
        var first = await _h.CallAsync(Rule(hold: TimeSpan.Zero));
        var id = ApprovalIdOf(first);
        await _h.DecideAsync(id, Alice, approve: true);

        var calls = Enumerable.Range(0, 10).Select(_ => _h.CallAsync(Rule(hold: TimeSpan.Zero), upstreamTakes: TimeSpan.FromMilliseconds(200))).ToList();
        var results = await Task.WhenAll(calls);

        Assert.Single(_h.Executed);
        Assert.Contains(results, r => r.IsError != true);
        Assert.Equal(ApprovalStatus.Executed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
    }

    [Fact]
    public async Task Another_agent_or_other_arguments_never_collect_an_approval()
    {
        var first = await _h.CallAsync(Rule(hold: TimeSpan.Zero));
        var id = ApprovalIdOf(first);
        await _h.DecideAsync(id, Alice, approve: true);

        var otherAgent = await _h.CallAsync(Rule(hold: TimeSpan.Zero), agent: "agent-2");
        var otherArgs = await _h.CallAsync(Rule(hold: TimeSpan.Zero), Args("T-101"));

        Assert.NotEqual(id, ApprovalIdOf(otherAgent));
        Assert.NotEqual(id, ApprovalIdOf(otherArgs));
        Assert.Empty(_h.Executed);
        Assert.Equal(ApprovalStatus.Approved, (await _h.Store.GetApprovalAsync(id, default))!.Status);
    }

    [Fact]
    public async Task Denied_or_expired_while_nobody_waits_answers_the_identical_call()
    {
        var denied = ApprovalIdOf(await _h.CallAsync(Rule(hold: TimeSpan.Zero), Args("T-1")));
        var expired = ApprovalIdOf(await _h.CallAsync(Rule(hold: TimeSpan.Zero, timeout: TimeSpan.FromMinutes(1)), Args("T-2")));
        await _h.DecideAsync(denied, Bob, approve: false, "not today");
        _h.Time.Advance(TimeSpan.FromMinutes(1));
        await _h.Lifecycle.SweepAsync(default);

        var deniedAgain = await _h.CallAsync(Rule(hold: TimeSpan.Zero), Args("T-1"));
        var expiredAgain = await _h.CallAsync(Rule(hold: TimeSpan.Zero), Args("T-2"));

        Assert.Equal("Denied: Bob denied agentwork_cancel_task (not today). The call was not made.", Text(deniedAgain));
        Assert.StartsWith("Expired: nobody decided", Text(expiredAgain));
        Assert.Equal(2, _h.Events.Requested.Count);

        // After the retention, the same call asks anew.
        _h.Time.Advance(_h.Options.OutcomeRetention);
        var fresh = await _h.CallAsync(Rule(hold: TimeSpan.Zero), Args("T-1"));
        Assert.NotEqual(denied, ApprovalIdOf(fresh));
        Assert.Empty(_h.Executed);
    }

    [Fact]
    public async Task Approved_but_never_collected_lapses_after_the_redeem_window()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(hold: TimeSpan.Zero)));
        await _h.DecideAsync(id, Alice, approve: true);

        _h.Time.Advance(_h.Options.RedeemWindow + TimeSpan.FromSeconds(1));
        await _h.Lifecycle.SweepAsync(default);

        Assert.Equal(ApprovalStatus.Lapsed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        Assert.Equal(id, Assert.Single(_h.Events.Lapsed).ApprovalId);
        Assert.Contains(await _h.AuditAsync(id), a => a.Decision == "lapsed");
        var late = await _h.CallAsync(Rule(hold: TimeSpan.Zero));
        Assert.NotEqual(id, ApprovalIdOf(late));
        Assert.Empty(_h.Executed);
    }

    [Fact]
    public async Task Withdraw_ends_as_cancelled_and_tells_the_waiting_call()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();

        var outcome = await _h.Lifecycle.DecideAsync(new Core.Contracts.ApprovalDecision(id, Guid.NewGuid(), false, Alice, "wrong task", _h.Time.GetUtcNow(), "console", Withdraw: true), default);

        Assert.True(outcome.Accepted);
        Assert.Equal("Cancelled", outcome.Status);
        Assert.StartsWith("Withdrawn: approval", Text(await call));
        Assert.Equal(ApprovalStatus.Cancelled, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        Assert.Empty(_h.Executed);
    }
}
