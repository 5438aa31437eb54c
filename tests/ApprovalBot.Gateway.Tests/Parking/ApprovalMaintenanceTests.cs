using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Parking;
using Microsoft.Extensions.Logging.Abstractions;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Parking;

/// <summary>
/// The maintenance loop on the fake clock: it sweeps on its timer, recovers after a restart, and
/// republishes what the bus missed soon after a failure, backing off while the broker stays down.
/// The test moves the clock one sweep at a time and waits until the loop has taken each tick (it reads
/// the monotonic clock once per round), so no tick is merged with the next and nothing is timed.
/// </summary>
public sealed class ApprovalMaintenanceTests : IAsyncLifetime
{
    private readonly LifecycleHarness _h = new();
    private readonly CancellationTokenSource _stop = new();
    private ApprovalMaintenance? _maintenance;

    public Task InitializeAsync() => _h.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_maintenance is not null)
        {
            await _maintenance.StopAsync(CancellationToken.None);
        }

        await _h.DisposeAsync();
    }

    private async Task StartAsync()
    {
        var reads = _h.Time.TimestampReads;
        _maintenance = new ApprovalMaintenance(_h.Lifecycle, _h.Options, _h.Time, NullLogger<ApprovalMaintenance>.Instance);
        await _maintenance.StartAsync(_stop.Token);
        // Recovered and republished once; the loop has started its timer.
        await Eventually.TrueAsync(() => _h.Time.TimestampReads > reads, "maintenance to start its loop");
    }

    /// <summary>One sweep interval on the clock, then until the loop has taken that tick.</summary>
    private async Task TickAsync()
    {
        var reads = _h.Time.TimestampReads;
        _h.Time.Advance(_h.Options.SweepInterval);
        await Eventually.TrueAsync(() => _h.Time.TimestampReads > reads, "the loop to take the tick");
    }

    [Fact]
    public async Task What_the_bus_missed_is_republished_soon_then_backing_off_to_every_30_s_until_it_goes_out()
    {
        _h.Events.Down = true;
        await _h.CallAsync(Rule(wait: ApprovalWait.Retry)); // stored, its request not published
        Assert.Equal(1, _h.Events.AttemptsOf<ApprovalRequested>());
        await StartAsync();
        await Eventually.TrueAsync(() => _h.Events.AttemptsOf<ApprovalRequested>() == 2, "the republish at start");

        // Seconds after start at which a republish is tried: soon after the failures, doubling, then every 30 s.
        int[] expected = [2, 6, 14, 30, 60, 90];
        var tried = new List<int>();
        for (var second = 1; second <= 90; second++)
        {
            var before = _h.Events.AttemptsOf<ApprovalRequested>();
            await TickAsync();
            if (expected.Contains(second))
            {
                await Eventually.TrueAsync(() => _h.Events.AttemptsOf<ApprovalRequested>() > before, $"a republish at {second} s");
            }

            if (_h.Events.AttemptsOf<ApprovalRequested>() > before)
            {
                tried.Add(second);
            }
        }

        Assert.Equal(expected, tried);
        Assert.Empty(_h.Events.Requested);

        // The broker is back: the next try publishes it, and nothing is published twice.
        _h.Events.Down = false;
        for (var second = 91; second <= 150; second++)
        {
            await TickAsync();
            if (second == 120)
            {
                await Eventually.TrueAsync(() => _h.Events.Requested.Count == 1, "the republish at 120 s");
            }
        }

        Assert.Single(_h.Events.Requested);
        Assert.Equal(9, _h.Events.AttemptsOf<ApprovalRequested>()); // 1 at the call, 1 at start, 6 while down, 1 that went out
    }

    [Fact]
    public async Task Overdue_approvals_nobody_waits_for_expire_on_the_sweep_timer()
    {
        var result = await _h.CallAsync(Rule(wait: ApprovalWait.Retry, timeout: TimeSpan.FromSeconds(5)));
        var id = ApprovalIdOf(result);
        await StartAsync();

        for (var second = 1; second <= 4; second++)
        {
            await TickAsync();
        }

        Assert.Equal(ApprovalStatus.Pending, (await _h.Store.GetApprovalAsync(id, default))!.Status);
        await TickAsync();
        await Eventually.TrueAsync(async () => (await _h.Store.GetApprovalAsync(id, default))!.Status == ApprovalStatus.Expired, "the sweep to expire it");
        await Eventually.TrueAsync(() => _h.Events.Resolved.Any(r => r.ApprovalId == id && r.Status == "Expired"), "ApprovalResolved(Expired)");
    }

    [Fact]
    public async Task At_start_a_call_that_was_running_upstream_when_the_process_stopped_ends_as_execution_failed()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(wait: ApprovalWait.Retry)));
        await _h.DecideAsync(id, Alice, approve: true);
        var approved = (await _h.Store.GetApprovalAsync(id, default))!;
        Assert.True(await _h.Store.TryClaimAsync(id, _h.Time.GetUtcNow(), default)); // claimed; the process "stopped" mid-call
        var pending = ApprovalIdOf(await _h.CallAsync(Rule(wait: ApprovalWait.Retry), Args("T-200")));

        await StartAsync();

        await Eventually.TrueAsync(async () => (await _h.Store.GetApprovalAsync(id, default))!.Status == ApprovalStatus.ExecutionFailed, "the unfinished call to be ended");
        var executed = await Eventually.Get(() => _h.Events.Executed.FirstOrDefault(e => e.ApprovalId == id), "ApprovalExecuted");
        Assert.False(executed.Succeeded);
        Assert.Contains("outcome is unknown", executed.Summary);
        Assert.Equal(ApprovalStatus.Pending, (await _h.Store.GetApprovalAsync(pending, default))!.Status);
        Assert.Equal(ApprovalStatus.Approved, approved.Status);
    }
}
