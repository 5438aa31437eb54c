using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;
using ModelContextProtocol.Protocol;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Parking;

/// <summary>Races the lifecycle must win: claims across processes, callers leaving, an upstream failing mid-call.</summary>
public sealed class ApprovalConcurrencyTests : IAsyncLifetime
{
    private readonly LifecycleHarness _h = new();

    public Task InitializeAsync() => _h.InitializeAsync();

    public Task DisposeAsync() => _h.DisposeAsync().AsTask();

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(result.Content[0]).Text;

    [Fact]
    public async Task Identical_retry_calls_racing_in_two_gateway_processes_run_the_approved_call_exactly_once()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(wait: ApprovalWait.Retry)));
        await _h.DecideAsync(id, Alice, approve: true);
        // A second gateway process on the same database (a restart overlapping, or two replicas).
        var (_, otherGate) = _h.NewProcess();
        var release = new TaskCompletionSource<CallToolResult>(TaskCreationOptions.RunContinuationsAsynchronously);

        var calls = Enumerable.Range(0, 12)
            .Select(i => Task.Run(() => _h.CallAsync(Rule(wait: ApprovalWait.Retry), gate: i % 2 == 0 ? null : otherGate, upstream: () => release.Task)))
            .ToList();
        await Eventually.TrueAsync(() => !_h.Executed.IsEmpty, "the winner to reach the upstream");
        release.SetResult(new CallToolResult { Content = [new TextContentBlock { Text = "done" }] });
        var results = await Task.WhenAll(calls);

        Assert.Single(_h.Executed);
        var winners = results.Where(r => r.IsError != true).ToList();
        Assert.NotEmpty(winners);
        Assert.All(winners, r => Assert.Equal("done", Text(r)));
        // Every other call is told it was collected already; none runs it again.
        // A loser that arrives while the winner runs hears "already collected"; one that arrives after the
        // execution finished asks anew (a new approval): either way nothing runs a second time.
        Assert.All(results.Where(r => r.IsError == true), r => Assert.Contains(r.Meta!["approvalbot"]!["decision"]!.GetValue<string>(), new[] { "already_collected", "approval_pending" }));
        Assert.Equal(ApprovalStatus.Executed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        Assert.Single(await _h.AuditAsync(id), a => a.Decision == "claimed");
    }

    [Fact]
    public async Task One_of_two_waiting_callers_giving_up_leaves_the_other_waiting_for_the_outcome()
    {
        using var leaves = new CancellationTokenSource();
        var first = _h.CallAsync(Rule(), cancellationToken: leaves.Token);
        var id = await _h.WaitForRequestAsync();
        var second = _h.CallAsync(Rule());
        await _h.WaitForAuditAsync(id, "held_duplicate");

        await leaves.CancelAsync();
        var detached = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("pending", detached.Meta!["approvalbot"]!["status"]!.GetValue<string>());
        Assert.False(second.IsCompleted);
        // Somebody still waits: the cards are not told the agent went away.
        Assert.DoesNotContain(_h.Events.Waiting, w => !w.AgentWaiting);

        await _h.DecideAsync(id, Alice, approve: true);

        Assert.Equal("done", Text(await second.WaitAsync(TimeSpan.FromSeconds(30))));
        Assert.Single(_h.Executed);
        Assert.Equal(ApprovalStatus.Executed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
    }

    [Fact]
    public async Task Both_waiting_callers_share_one_upstream_execution_of_the_approved_call()
    {
        var first = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();
        var second = _h.CallAsync(Rule());
        await _h.WaitForAuditAsync(id, "held_duplicate");

        await _h.DecideAsync(id, Alice, approve: true);

        var results = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(results, r => Assert.Equal("done", Text(r)));
        Assert.Single(_h.Executed);
    }

    [Fact]
    public async Task An_upstream_that_throws_during_the_approved_call_ends_it_as_failed_once_and_never_runs_it_again()
    {
        var first = _h.CallAsync(Rule(), upstream: () => throw new IOException("connection reset while sending api_key=sk-live-secret"));
        var id = await _h.WaitForRequestAsync();
        // Waiting callers share one execution, run by whichever gets there first: both upstreams fail alike.
        var second = _h.CallAsync(Rule(), upstream: () => throw new IOException("connection reset while sending api_key=sk-live-secret"));
        await _h.WaitForAuditAsync(id, "held_duplicate");

        await _h.DecideAsync(id, Alice, approve: true);

        // Both waiting callers see the one failure; the upstream is called once (Executed counts every call).
        var thrown = await Assert.ThrowsAsync<IOException>(() => first.WaitAsync(TimeSpan.FromSeconds(30)));
        // The second waiter shares the failure, or — when the decision landed before it joined the wait — is
        // told the approval was already collected; its own upstream is never called either way.
        try
        {
            var secondResult = await second.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("already_collected", secondResult.Meta!["approvalbot"]!["decision"]!.GetValue<string>());
        }
        catch (IOException shared)
        {
            Assert.Same(thrown, shared);
        }
        Assert.Single(_h.Executed);
        Assert.Equal(ApprovalStatus.ExecutionFailed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        var executed = Assert.Single(_h.Events.Executed);
        Assert.False(executed.Succeeded);
        Assert.Contains("connection reset", executed.Summary);
        Assert.DoesNotContain("sk-live-secret", executed.Summary);
        Assert.Contains(await _h.AuditAsync(id), a => a.Decision == "execution_failed" && a.Reason!.Contains("connection reset", StringComparison.Ordinal));

        // Spent: the identical call afterwards asks anew (a new approval) and nothing runs again meanwhile.
        var again = await _h.CallAsync(Rule(hold: TimeSpan.Zero), upstream: () => throw new InvalidOperationException("must not run"));
        Assert.NotEqual(id, ApprovalIdOf(again));
        Assert.Equal("pending", again.Meta!["approvalbot"]!["status"]!.GetValue<string>());
        Assert.Single(_h.Executed);
    }

    [Fact]
    public async Task An_upstream_error_result_is_recorded_as_a_failed_execution()
    {
        var call = _h.CallAsync(Rule(), upstream: () => Task.FromResult(new CallToolResult { IsError = true, Content = [new TextContentBlock { Text = "Task T-100 not found (token=sk-live-abcdef0123456789)" }] }));
        var id = await _h.WaitForRequestAsync();

        await _h.DecideAsync(id, Alice, approve: true);

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        Assert.StartsWith("Task T-100 not found", Text(result)); // the agent gets the upstream's own answer
        Assert.Equal(ApprovalStatus.ExecutionFailed, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        var executed = Assert.Single(_h.Events.Executed);
        Assert.StartsWith("Task T-100 not found", executed.Summary);
        Assert.DoesNotContain("sk-live-abcdef0123456789", executed.Summary);
    }

    [Fact]
    public async Task Racing_clicks_from_different_approvers_resolve_once()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();

        var outcomes = await Task.WhenAll(
            Enumerable.Range(0, 8).Select(i => Task.Run(() => _h.DecideAsync(id, i % 2 == 0 ? Alice : Bob, approve: i % 3 != 0, $"click {i}"))));

        Assert.Single(outcomes, o => o.Accepted);
        Assert.Single(_h.Events.Resolved);
        var resolved = (await _h.Store.GetApprovalAsync(id, default))!;
        var winner = outcomes.Single(o => o.Accepted);
        await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(winner.Status == "Approved" ? ApprovalStatus.Executed : ApprovalStatus.Denied, resolved.Status == ApprovalStatus.Approved ? ApprovalStatus.Executed : resolved.Status);
        Assert.Equal(winner.Status == "Approved" ? 1 : 0, _h.Executed.Count);
    }
}
