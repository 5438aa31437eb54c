using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Gateway.Tests.Audit;

/// <summary>Retention on a controlled clock: what is older than the cut-off goes, in small batches; what is recent or still open stays.</summary>
public sealed class AuditRetentionTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-unit", Guid.NewGuid().ToString("n"));
    private readonly FakeTimeProvider _time = new(Now);
    private GatewayStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _store = new GatewayStore(Path.Combine(_directory, "gateway.db"));
        await _store.MigrateAsync(CancellationToken.None);
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }

    private AuditRetention Retention(int days, int batch = 7) =>
        new(_store, new AuditOptions { RetentionDays = days, PruneBatchSize = batch }, _time, NullLogger<AuditRetention>.Instance);

    private async Task<Guid> ApprovalAsync(DateTimeOffset requested, ApprovalStatus end, DateTimeOffset? resolved = null)
    {
        var id = Guid.NewGuid();
        await _store.InsertApprovalAsync(
            new ApprovalRecord(id, "agentwork_cancel_task", "agentwork", "agent-1", "{}", "d", null, "rules.x", [], 1, [], ApprovalStatus.Pending, "block",
                requested, requested.AddMinutes(10), null, null, null, null, null, "gw"),
            CancellationToken.None);
        if (end != ApprovalStatus.Pending)
        {
            Assert.True(await _store.TryTransitionAsync(id, ApprovalStatus.Pending, end is ApprovalStatus.Executed ? ApprovalStatus.Approved : end, resolved ?? requested.AddMinutes(1)));
            if (end is ApprovalStatus.Executed)
            {
                Assert.True(await _store.TryTransitionAsync(id, ApprovalStatus.Approved, ApprovalStatus.Executed, (resolved ?? requested).AddMinutes(2)));
            }
        }

        return id;
    }

    [Fact]
    public async Task Prunes_old_rows_in_batches_and_keeps_recent_and_open_ones()
    {
        // Audit: 50 rows beyond 30 days (more than seven batches of 7), 20 just inside, 5 today.
        var entries = Enumerable.Range(0, 50).Select(i => new AuditEntry(Now.AddDays(-31).AddMinutes(-i), "allowed", "agent-1", "echo"))
            .Concat(Enumerable.Range(0, 20).Select(i => new AuditEntry(Now.AddDays(-29).AddMinutes(i), "denied", "agent-1", "echo")))
            .Concat(Enumerable.Range(0, 5).Select(i => new AuditEntry(Now.AddMinutes(-i), "held", "agent-1", "echo")))
            .ToList();
        await _store.AppendAuditAsync(entries, CancellationToken.None);

        var oldDenied = await ApprovalAsync(Now.AddDays(-40), ApprovalStatus.Denied);
        var oldExecuted = await ApprovalAsync(Now.AddDays(-35), ApprovalStatus.Executed);
        var oldPending = await ApprovalAsync(Now.AddDays(-40), ApprovalStatus.Pending);
        var oldApproved = await ApprovalAsync(Now.AddDays(-40), ApprovalStatus.Approved);
        var recentDenied = await ApprovalAsync(Now.AddDays(-2), ApprovalStatus.Denied);
        Assert.True(await _store.TryRememberCardAsync(oldDenied, "slack", "C1|1.1", Now.AddDays(-40), CancellationToken.None));
        Assert.True(await _store.TryRememberCardAsync(recentDenied, "slack", "C1|2.2", Now.AddDays(-2), CancellationToken.None));

        var removed = await Retention(days: 30).PruneOnceAsync(CancellationToken.None);

        Assert.Equal(50, removed[PruneTarget.Audit]);
        var left = (await _store.QueryAuditAsync(new AuditQuery { Limit = 1000 }, CancellationToken.None)).Items;
        Assert.Equal(25, left.Count);
        Assert.All(left, r => Assert.True(r.At >= Now.AddDays(-30)));
        Assert.Equal(20, left.Count(r => r.Decision == "denied"));

        Assert.Equal(2, removed[PruneTarget.Approvals]);
        Assert.Null(await _store.GetApprovalAsync(oldDenied, CancellationToken.None));
        Assert.Null(await _store.GetApprovalAsync(oldExecuted, CancellationToken.None));
        // Still open: a pending approval expires, an approved one lapses, through the lifecycle first.
        Assert.NotNull(await _store.GetApprovalAsync(oldPending, CancellationToken.None));
        Assert.NotNull(await _store.GetApprovalAsync(oldApproved, CancellationToken.None));
        Assert.NotNull(await _store.GetApprovalAsync(recentDenied, CancellationToken.None));

        // The card post memory went with the old approval: reporting it again counts as new, the recent one does not.
        Assert.True(await _store.TryRememberCardAsync(oldDenied, "slack", "C1|1.1", Now, CancellationToken.None));
        Assert.False(await _store.TryRememberCardAsync(recentDenied, "slack", "C1|2.2", Now, CancellationToken.None));

        // A second pass finds nothing more.
        var again = await Retention(days: 30).PruneOnceAsync(CancellationToken.None);
        Assert.All(again.Values, v => Assert.Equal(0, v));
    }

    [Fact]
    public async Task The_cut_off_moves_with_the_clock()
    {
        await _store.AppendAuditAsync([new AuditEntry(Now.AddDays(-10), "allowed"), new AuditEntry(Now.AddDays(-5), "allowed")], CancellationToken.None);
        var retention = Retention(days: 7);

        await retention.PruneOnceAsync(CancellationToken.None);
        Assert.Single((await _store.QueryAuditAsync(new AuditQuery(), CancellationToken.None)).Items);

        _time.Advance(TimeSpan.FromDays(3));
        await retention.PruneOnceAsync(CancellationToken.None);
        Assert.Empty((await _store.QueryAuditAsync(new AuditQuery(), CancellationToken.None)).Items);
    }

    [Fact]
    public async Task Delivered_webhook_events_go_after_a_week_undelivered_ones_stay()
    {
        var outbox = new EveryRowOutbox();
        await _store.AppendAuditAsync([new AuditEntry(Now.AddDays(-10), "denied"), new AuditEntry(Now.AddDays(-9), "denied"), new AuditEntry(Now.AddDays(-1), "denied")], outbox, CancellationToken.None);
        var due = await _store.ListDueDeliveriesAsync(Now, 10, CancellationToken.None);
        Assert.Equal(3, due.Count);
        await _store.MarkDeliveredAsync(due[0].Id, Now.AddDays(-10), CancellationToken.None); // old, delivered
        await _store.MarkDeliveredAsync(due[2].Id, Now.AddDays(-1), CancellationToken.None);  // recent, delivered
        // due[1]: old and still failing: kept for its retries.

        var removed = await Retention(days: 365).PruneOnceAsync(CancellationToken.None);

        Assert.Equal(1, removed[PruneTarget.Outbox]);
        Assert.Equal(0, removed[PruneTarget.Audit]);
        var waiting = await _store.ListDueDeliveriesAsync(Now, 10, CancellationToken.None);
        Assert.Equal(due[1].Id, Assert.Single(waiting).Id);
    }

    [Fact]
    public async Task Zero_days_keeps_everything()
    {
        await _store.AppendAuditAsync([new AuditEntry(Now.AddYears(-5), "allowed")], CancellationToken.None);
        var removed = await Retention(days: 0).PruneOnceAsync(CancellationToken.None);
        Assert.Empty(removed);
        Assert.Single((await _store.QueryAuditAsync(new AuditQuery(), CancellationToken.None)).Items);
    }

    /// <summary>Queues one delivery per row, to one webhook.</summary>
    private sealed class EveryRowOutbox : IAuditOutbox
    {
        public bool Wants(AuditEntry entry) => true;

        public IEnumerable<OutboxMessage> Messages(AuditEntry entry, ApprovalRecord? approval) =>
            [new OutboxMessage("ops", Guid.NewGuid(), "call.denied", "{}", entry.At)];

        public void Committed(int deliveries)
        {
        }
    }
}
