using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Tests.Storage;

/// <summary>
/// Every statement the store runs, on each provider (the SQL is shared; these catch a dialect
/// difference), and what replicas sharing one database rely on: one claim wins, one key is shared.
/// </summary>
public abstract partial class GatewayStoreTests
{
    [Fact]
    public async Task Ten_parallel_claims_from_two_replicas_have_exactly_one_winner()
    {
        var record = await InsertAsync();
        Assert.True(await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine, "slack:UALICE", "Alice", "slack", addApprover: "slack:UALICE"));
        GatewayStore[] replicas = [OpenReplica(), OpenReplica()];

        var wins = await RaceAsync(10, i => replicas[i % 2].TryClaimAsync(record.Id, Nine.AddSeconds(i), CancellationToken.None, $"replica-{i}"));

        var winner = Assert.Single(Enumerable.Range(0, 10), i => wins[i]);
        Assert.NotNull((await replicas[1].GetApprovalAsync(record.Id, CancellationToken.None))!.ClaimedAt);
        // Only the replica running the call may end it after its own restart; the opener's restart leaves it alone.
        Assert.Empty(await _store.ListClaimedUnfinishedAsync("gw-1", CancellationToken.None));
        Assert.Single(await _store.ListClaimedUnfinishedAsync($"replica-{winner}", CancellationToken.None));
    }

    [Fact]
    public async Task Replicas_share_the_first_stored_key()
    {
        var first = Enumerable.Repeat((byte)1, 32).ToArray();
        var second = Enumerable.Repeat((byte)2, 32).ToArray();

        var keys = await Task.WhenAll(
            _store.LoadOrCreateSharedKeyAsync("argument-digest", first, Nine, CancellationToken.None),
            OpenReplica().LoadOrCreateSharedKeyAsync("argument-digest", second, Nine, CancellationToken.None));

        Assert.Equal(keys[0], keys[1]);
        Assert.Equal(keys[0], await OpenReplica().LoadOrCreateSharedKeyAsync("argument-digest", RandomBytes(), Nine, CancellationToken.None));
    }

    [Fact]
    public async Task Approvers_appended_by_the_database_keep_a_quorum_vote_conditional()
    {
        var record = await InsertAsync(required: 3);
        Assert.True(await _store.TryAddVoteAsync(record.Id, [], "slack:UALICE", CancellationToken.None));
        Assert.True(await _store.TryAddVoteAsync(record.Id, ["slack:UALICE"], "slack:UBOB", CancellationToken.None));
        Assert.False(await _store.TryAddVoteAsync(record.Id, ["slack:UALICE"], "slack:UCAROL", CancellationToken.None));
        Assert.True(await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine, "slack:UCAROL", "Carol", "slack", addApprover: "slack:UCAROL"));

        Assert.Equal(["slack:UALICE", "slack:UBOB", "slack:UCAROL"], (await _store.GetApprovalAsync(record.Id, CancellationToken.None))!.ApprovedBy);

        var edited = await InsertAsync(digest: "d-edit");
        Assert.True(await _store.TryApproveWithEditAsync(edited.Id, Nine, "console:admin", "admin", "console", "smaller", """{"n":1}""", "d-edited", CancellationToken.None));
        var stored = (await _store.GetApprovalAsync(edited.Id, CancellationToken.None))!;
        Assert.Equal((ApprovalStatus.Approved, "d-edited", "console:admin"), (stored.Status, stored.EditedDigest, Assert.Single(stored.ApprovedBy)));
    }

    [Fact]
    public async Task Grants_are_born_with_their_approval_and_end_once()
    {
        var record = await InsertAsync();
        var grant = new GrantRecord(
            Guid.NewGuid(), record.Id, record.Agent, record.Tool, "agentwork", record.Rule, "fp", GrantRecord.ToolScope, null, "slack:UALICE", "Alice", "slack",
            ["slack:UALICE"], Nine, Nine.AddHours(1), "gw-1");

        Assert.True(await _store.TryApproveWithGrantAsync(record.Id, Nine, "slack:UALICE", "Alice", "slack", null, grant, CancellationToken.None));
        Assert.False(await _store.TryApproveWithGrantAsync(record.Id, Nine, "slack:UBOB", "Bob", "slack", null, grant with { Id = Guid.NewGuid() }, CancellationToken.None));
        var stored = (await _store.GetGrantAsync(grant.Id, CancellationToken.None))!;
        Assert.Equal(grant, stored with { Revokers = grant.Revokers });
        Assert.Equal(grant.Revokers, stored.Revokers);
        Assert.Equal(grant.Id, Assert.Single(await _store.FindActiveGrantsAsync(record.Agent, record.Tool, Nine.AddMinutes(1), CancellationToken.None)).Id);
        Assert.Single(await _store.ListOpenGrantsAsync(CancellationToken.None));
        var unpublished = Assert.Single(await _store.ListUnpublishedGrantsAsync("gw-1", CancellationToken.None));
        Assert.Equal((false, true), (unpublished.CreatedPublished, unpublished.EndedPublished));
        await _store.MarkGrantPublishedAsync(grant.Id, ended: false, CancellationToken.None);
        Assert.Empty(await _store.ListUnpublishedGrantsAsync("gw-1", CancellationToken.None));

        var expired = await RaceAsync(2, i => i == 0
            ? OpenReplica().ExpireDueGrantsAsync(Nine.AddHours(2), CancellationToken.None).ContinueWith(t => t.Result.Count == 1, TaskScheduler.Default)
            : _store.TryEndGrantAsync(grant.Id, "revoked", Nine.AddHours(2), "slack:UALICE", "Alice", null, CancellationToken.None));
        Assert.Single(expired, e => e);
        Assert.Empty(await _store.ListOpenGrantsAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Tasks_audit_pages_outbox_and_retention_run_on_this_provider()
    {
        var record = await InsertAsync();
        var task = new TaskRecord("task-1", "agent-1", record.Tool, null, TaskRecord.Working, null, null, Nine, Nine, TimeSpan.FromMinutes(1), "gw-1");
        await _store.InsertTaskAsync(task, CancellationToken.None);
        await _store.SetTaskApprovalAsync("task-1", record.Id, "waiting", TimeSpan.FromHours(1), Nine, CancellationToken.None);
        Assert.Equal((record.Id, TimeSpan.FromHours(1)), ((await _store.GetTaskAsync("task-1", "agent-1", CancellationToken.None))!.ApprovalId, (await _store.GetTaskAsync("task-1", "agent-1", CancellationToken.None))!.Ttl));
        Assert.Single(await OpenReplica().ListWorkingTasksAsync("gw-1", CancellationToken.None));
        Assert.True(await OpenReplica().TryFinishTaskAsync("task-1", TaskRecord.Completed, null, """{"content":[]}""", Nine, CancellationToken.None));
        Assert.False(await _store.TryFinishTaskAsync("task-1", TaskRecord.Failed, null, null, Nine, CancellationToken.None));
        Assert.Equal("task-1", Assert.Single(await _store.ListTasksAsync("agent-1", Nine.AddMinutes(1), 10, CancellationToken.None)).Id);
        Assert.Equal(1, await _store.DeleteExpiredTasksAsync(Nine.AddHours(2), CancellationToken.None));

        var outbox = new OneEventPerRow();
        Assert.Equal(2, await _store.AppendAuditAsync(
            [new AuditEntry(Nine, "held", "agent-1", record.Tool, ApprovalId: record.Id, DurationMs: 1.5), new AuditEntry(Nine.AddSeconds(1), "denied", "agent-2", "x")],
            outbox, CancellationToken.None));
        Assert.Equal(record.Id, outbox.Approvals.Single(a => a is not null)!.Id);
        var page = await _store.QueryAuditAsync(new AuditQuery { Decisions = ["held", "denied"], Limit = 1 }, CancellationToken.None);
        Assert.Equal("denied", Assert.Single(page.Items).Decision);
        Assert.True(AuditCursor.TryParse(page.NextCursor!, out var cursor));
        var next = await _store.QueryAuditAsync(new AuditQuery { Decisions = ["held", "denied"], After = cursor, Limit = 1 }, CancellationToken.None);
        Assert.Equal(record.Id, Assert.Single(next.Items).ApprovalId);
        Assert.Equal(new Dictionary<string, int> { ["held"] = 1, ["denied"] = 1 }, await _store.CountDecisionsSinceAsync(Nine, CancellationToken.None));
        Assert.Single(await _store.ReadApprovalAuditAsync(record.Id, CancellationToken.None));
        Assert.True(await _store.TryRememberCardAsync(record.Id, "slack", "C1/1.2", Nine, CancellationToken.None));
        Assert.False(await OpenReplica().TryRememberCardAsync(record.Id, "slack", "C1/1.2", Nine, CancellationToken.None));

        var due = await _store.ListDueDeliveriesAsync(Nine.AddMinutes(1), 10, CancellationToken.None);
        Assert.Equal(2, due.Count);
        Assert.Equal(Nine, await _store.NextDeliveryDueAsync(CancellationToken.None));
        await _store.MarkDeliveredAsync(due[0].Id, Nine, CancellationToken.None);
        await _store.MarkAttemptFailedAsync(due[1].Id, Nine, "503", Nine.AddMinutes(5), CancellationToken.None);
        var counts = Assert.Single(await _store.CountUndeliveredAsync(CancellationToken.None));
        Assert.Equal((1, 1, 0, "503"), (counts.Waiting, counts.Retrying, counts.GivenUp, counts.LastError));

        Assert.True(await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Denied, Nine, "slack:UBOB", "Bob", "slack"));
        Assert.True(await _store.TryRememberDecisionAsync(Guid.NewGuid(), record.Id, Nine, CancellationToken.None));
        var later = Nine.AddDays(1);
        Assert.Equal(2, await _store.PruneBatchAsync(PruneTarget.Audit, later, 10, CancellationToken.None));
        Assert.Equal(1, await _store.PruneBatchAsync(PruneTarget.Approvals, later, 10, CancellationToken.None));
        Assert.Equal(2, await _store.PruneBatchAsync(PruneTarget.Dedup, later, 10, CancellationToken.None));
        Assert.Equal(1, await _store.PruneBatchAsync(PruneTarget.Outbox, later, 10, CancellationToken.None)); // the delivered one; the retrying one stays
    }

    [Fact]
    public async Task Replicas_leasing_the_outbox_at_once_take_each_delivery_once_and_a_lapsed_lease_frees_it()
    {
        var outbox = new OneEventPerRow();
        var entries = Enumerable.Range(0, 30).Select(i => new AuditEntry(Nine.AddMilliseconds(i), "allowed", "agent-1", "t" + i)).ToList();
        Assert.Equal(30, await _store.AppendAuditAsync(entries, outbox, CancellationToken.None));
        GatewayStore[] replicas = [_store, OpenReplica(), OpenReplica()];
        var lease = TimeSpan.FromMinutes(5);

        var taken = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(() => replicas[i % 3].LeaseDueDeliveriesAsync(Nine.AddMinutes(1), 10, lease, CancellationToken.None))));

        var ids = taken.SelectMany(t => t).Select(d => d.Id).ToList();
        Assert.Equal(30, ids.Count);
        Assert.Equal(30, ids.Distinct().Count());
        Assert.All(taken, batch => Assert.Equal(batch.Select(d => d.Id).Order(), batch.Select(d => d.Id)));
        Assert.Empty(await replicas[1].LeaseDueDeliveriesAsync(Nine.AddMinutes(2), 10, lease, CancellationToken.None));

        // One delivered, the rest abandoned (their gateway died): due again once the lease has run out.
        await _store.MarkDeliveredAsync(ids[0], Nine.AddMinutes(1), CancellationToken.None);
        var again = await replicas[2].LeaseDueDeliveriesAsync(Nine.AddMinutes(1) + lease, 100, lease, CancellationToken.None);
        Assert.Equal(29, again.Count);
        Assert.DoesNotContain(ids[0], again.Select(d => d.Id));
    }

    [Fact]
    public async Task A_working_task_renewed_by_its_gateway_is_not_abandoned_and_one_left_alone_is()
    {
        TaskRecord Task(string id, string instance) => new(id, "agent-1", "agentwork_cancel_task", null, TaskRecord.Working, "submitted", null, Nine, Nine, TimeSpan.FromHours(1), instance);
        await _store.InsertTaskAsync(Task("alive", "gw-a"), CancellationToken.None);
        await _store.InsertTaskAsync(Task("dead", "gw-b"), CancellationToken.None);
        await _store.InsertTaskAsync(Task("mine", "gw-c"), CancellationToken.None);
        await _store.InsertTaskAsync(Task("done", "gw-b") with { Status = TaskRecord.Completed }, CancellationToken.None);

        await OpenReplica().TouchWorkingTasksAsync("gw-a", Nine.AddSeconds(40), CancellationToken.None);

        var abandoned = await _store.ListAbandonedTasksAsync("gw-c", Nine.AddSeconds(30), CancellationToken.None);
        Assert.Equal(["dead"], abandoned.Select(t => t.Id));
        Assert.Equal("gw-b", abandoned[0].Instance);
        Assert.Empty(await _store.ListAbandonedTasksAsync("gw-c", Nine, CancellationToken.None));
    }

    [Fact]
    public async Task Escalations_and_reminders_happen_once()
    {
        var record = await InsertAsync(expiresIn: TimeSpan.FromMinutes(10));
        Assert.Single(await _store.ListRemindersDueAsync(Nine.AddMinutes(9), CancellationToken.None));
        Assert.True(await _store.TryMarkRemindedAsync(record.Id, Nine.AddMinutes(9), CancellationToken.None));
        Assert.False(await OpenReplica().TryMarkRemindedAsync(record.Id, Nine.AddMinutes(9), CancellationToken.None));
        Assert.Empty(await _store.ListEscalationsDueAsync(Nine.AddMinutes(9), CancellationToken.None));
        Assert.True(await _store.TryEscalateAsync(record.Id, ["group:sre"], Nine.AddMinutes(9), CancellationToken.None));
        Assert.False(await _store.TryEscalateAsync(record.Id, ["group:sre"], Nine.AddMinutes(9), CancellationToken.None));
        Assert.Equal(1, await _store.CountPendingAsync("agent-1", CancellationToken.None));
    }

    private static byte[] RandomBytes() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    private sealed class OneEventPerRow : IAuditOutbox
    {
        public List<ApprovalRecord?> Approvals { get; } = [];

        public bool Wants(AuditEntry entry) => true;

        public IEnumerable<OutboxMessage> Messages(AuditEntry entry, ApprovalRecord? approval)
        {
            Approvals.Add(approval);
            return [new OutboxMessage("hook", Guid.NewGuid(), entry.Decision, "{}", entry.At)];
        }

        public void Committed(int deliveries)
        {
        }
    }
}
