using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Bot.Tests.Status;

/// <summary>/policy status from the real read model and heartbeats: caps and totals, "today" in UTC, gateways online or not.</summary>
public sealed class StatusReportTests : IAsyncLifetime
{
    // 10:00 UTC; "today" starts at 00:00 UTC.
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly Approver Alice = new("slack", "UALICE", "Alice", "T1");

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-status-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(Now);
    private BotStore _store = null!;
    private HeartbeatTracker _heartbeats = null!;
    private StatusReport _report = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _store = new BotStore(Path.Combine(_directory, "bot.db"));
        await _store.MigrateAsync(CancellationToken.None);
        _heartbeats = new HeartbeatTracker(_time);
        _report = new StatusReport(_store, _heartbeats, _time);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<Guid> RequestAsync(DateTimeOffset at)
    {
        var id = Guid.NewGuid();
        await _store.AddRequestedAsync(
            new ApprovalRequested(id, "agentwork_cancel_task", "agentwork", "ci-bot", "{}", "d", null, [], 1, at, at.AddMinutes(10), new Uri("loopback://localhost/gw"), "gw-1"),
            CancellationToken.None);
        return id;
    }

    private async Task<Guid> ResolvedAsync(string status, DateTimeOffset at, DateTimeOffset? collectBy = null)
    {
        var id = await RequestAsync(at.AddMinutes(-1));
        await _store.ResolveAsync(new ApprovalResolved(id, status, Alice, null, at, collectBy), CancellationToken.None);
        return id;
    }

    private static GatewayHeartbeat Heartbeat(string instance, DateTimeOffset sentAt, int allowed = 0, int denied = 0, int pending = 0) =>
        new(instance, "1.0.0", "12 rules", "deny", 12, sentAt.AddHours(-1), [new UpstreamHealth("agentwork", true, 6, null)], pending, new DecisionCounts(allowed, denied, 0, 0), sentAt);

    [Fact]
    public async Task The_pending_list_is_capped_oldest_first_but_the_total_counts_them_all()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await RequestAsync(Now.AddMinutes(-10 + i)));
        }

        await ResolvedAsync("Denied", Now.AddMinutes(-1));

        var status = await _report.GetAsync(3, CancellationToken.None);

        Assert.Equal(ids.Take(3), status.Pending.Select(p => p.Id));
        Assert.Equal(5, status.PendingTotal);
        Assert.Equal(Now, status.At);
    }

    [Fact]
    public async Task Awaiting_collection_is_capped_soonest_to_lapse_first_and_counted_beyond_the_cap()
    {
        var later = await ResolvedAsync("Approved", Now.AddMinutes(-5), collectBy: Now.AddMinutes(25));
        var sooner = await ResolvedAsync("Approved", Now.AddMinutes(-20), collectBy: Now.AddMinutes(10));
        var third = await ResolvedAsync("Approved", Now.AddMinutes(-1), collectBy: Now.AddMinutes(29));
        await ResolvedAsync("Approved", Now.AddMinutes(-2)); // a waiting call collected it at once: no collect-by
        var ran = await ResolvedAsync("Approved", Now.AddMinutes(-3), collectBy: Now.AddMinutes(27));
        await _store.RecordExecutionAsync(new ApprovalExecuted(ran, true, "done", Now), CancellationToken.None);

        var capped = await _report.GetAsync(2, CancellationToken.None);
        var all = await _report.GetAsync(10, CancellationToken.None);

        Assert.Equal([sooner, later], capped.AwaitingCollection.Select(a => a.Id));
        Assert.Equal(3, capped.AwaitingCollectionTotal);
        Assert.Equal([sooner, later, third], all.AwaitingCollection.Select(a => a.Id));
        Assert.Equal(3, all.AwaitingCollectionTotal);
    }

    [Fact]
    public async Task Today_counts_human_decisions_since_midnight_utc_and_a_lapsed_one_as_approved_and_lapsed()
    {
        var midnight = new DateTimeOffset(2026, 3, 10, 0, 0, 0, TimeSpan.Zero);
        await ResolvedAsync("Approved", midnight.AddSeconds(-1)); // yesterday
        await ResolvedAsync("Denied", midnight.AddHours(-3));     // yesterday
        await ResolvedAsync("Approved", midnight);
        await ResolvedAsync("Denied", Now.AddMinutes(-30));
        await ResolvedAsync("Expired", Now.AddMinutes(-20));
        await ResolvedAsync("Cancelled", Now.AddMinutes(-10));
        var lapsed = await ResolvedAsync("Approved", midnight.AddHours(1), collectBy: midnight.AddHours(1.5));
        await _store.RecordLapsedAsync(new ApprovalLapsed(lapsed, midnight.AddHours(1.5)), CancellationToken.None);

        var today = (await _report.GetAsync(10, CancellationToken.None)).Today;

        Assert.Equal((2, 1, 1, 1, 1), (today.Approved, today.Denied, today.Expired, today.Cancelled, today.Lapsed));
    }

    [Fact]
    public async Task Policy_decisions_today_add_up_the_same_day_heartbeat_of_every_gateway()
    {
        _heartbeats.Record(Heartbeat("gw-b", Now.AddSeconds(-5), allowed: 40, denied: 2));
        _heartbeats.Record(Heartbeat("gw-a", Now.AddSeconds(-8), allowed: 10, denied: 1));
        // A gateway whose last heartbeat was sent yesterday: its counts are yesterday's.
        _heartbeats.Record(Heartbeat("gw-c", new DateTimeOffset(2026, 3, 9, 23, 59, 50, TimeSpan.Zero), allowed: 1000, denied: 1000));

        var status = await _report.GetAsync(10, CancellationToken.None);

        Assert.Equal((50, 3), (status.Today.AutoAllowed, status.Today.DeniedByPolicy));
        Assert.Equal(["gw-a", "gw-b", "gw-c"], status.Gateways.Select(g => g.Heartbeat.Instance));
    }

    [Fact]
    public void A_gateway_is_online_while_heartbeats_arrive_and_an_older_heartbeat_never_replaces_a_newer_one()
    {
        _heartbeats.Record(Heartbeat("gw-1", Now, allowed: 7));
        // Overtaken on the bus: sent before the one already held.
        _heartbeats.Record(Heartbeat("gw-1", Now.AddSeconds(-10), allowed: 3));

        var seen = Assert.Single(_heartbeats.Snapshot());
        Assert.Equal(7, seen.Heartbeat.Today.Allowed);
        Assert.True(seen.Online);
        Assert.Equal(Now, seen.LastSeen);

        _time.Advance(_heartbeats.OfflineAfter);
        Assert.True(Assert.Single(_heartbeats.Snapshot()).Online);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(Assert.Single(_heartbeats.Snapshot()).Online);

        // It comes back: online again, counts from the new heartbeat.
        _heartbeats.Record(Heartbeat("gw-1", _time.GetUtcNow(), allowed: 9));
        var back = Assert.Single(_heartbeats.Snapshot());
        Assert.True(back.Online);
        Assert.Equal(9, back.Heartbeat.Today.Allowed);
    }
}
