using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Storage;
using ApprovalBot.Tests.Shared;
using Microsoft.Data.Sqlite;

namespace ApprovalBot.Gateway.Tests.Storage;

/// <summary>
/// The store's conditional writes on a real database, run once per provider (a SQLite file; a PostgreSQL
/// schema): each lifecycle move is one UPDATE on the status the caller saw, so racing writers (two clicks,
/// two identical calls, a click and the sweeper) end with exactly one winner.
/// </summary>
public abstract partial class GatewayStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Nine = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private GatewayStore _store = null!;

    /// <summary>A migrated store on a new, empty database.</summary>
    protected abstract Task<GatewayStore> CreateStoreAsync();

    /// <summary>Another store on the same database: a second replica (PostgreSQL) or a second process on the file (SQLite).</summary>
    protected abstract GatewayStore OpenReplica();

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private async Task<ApprovalRecord> InsertAsync(
        string agent = "agent-1", string digest = "d1", DateTimeOffset? requestedAt = null, TimeSpan? expiresIn = null, string instance = "gw-1", int required = 1)
    {
        var at = requestedAt ?? Nine;
        var record = new ApprovalRecord(
            Guid.NewGuid(), "agentwork_cancel_task", "agentwork", agent, "{}", digest, null, "rules.agentwork_cancel_task",
            ["slack:UALICE", "slack:UBOB"], required, [], ApprovalStatus.Pending, "block", at, at + (expiresIn ?? TimeSpan.FromMinutes(10)),
            null, null, null, null, null, instance);
        await _store.InsertApprovalAsync(record, CancellationToken.None);
        return record;
    }

    private async Task<ApprovalStatus> StatusAsync(Guid id) => (await _store.GetApprovalAsync(id, CancellationToken.None))!.Status;

    private static async Task<bool[]> RaceAsync(int writers, Func<int, Task<bool>> write)
    {
        using var start = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, writers).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await write(i);
        })).ToList();
        start.Set();
        return await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task A_transition_happens_only_from_the_status_the_caller_saw()
    {
        var record = await InsertAsync();

        Assert.False(await _store.TryTransitionAsync(record.Id, ApprovalStatus.Approved, ApprovalStatus.Executed, Nine));
        Assert.True(await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Denied, Nine.AddMinutes(1), "slack:UBOB", "Bob", "slack", "no"));
        Assert.False(await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine.AddMinutes(2), "slack:UALICE", "Alice", "slack"));

        var denied = (await _store.GetApprovalAsync(record.Id, CancellationToken.None))!;
        Assert.Equal((ApprovalStatus.Denied, "slack:UBOB", "Bob", "slack", "no", Nine.AddMinutes(1)), (denied.Status, denied.DecidedBy, denied.DecidedByName, denied.DecidedChannel, denied.Comment, denied.ResolvedAt));
    }

    [Theory]
    [InlineData(ApprovalStatus.Pending, ApprovalStatus.Executed)]
    [InlineData(ApprovalStatus.Pending, ApprovalStatus.Lapsed)]
    [InlineData(ApprovalStatus.Approved, ApprovalStatus.Denied)]
    [InlineData(ApprovalStatus.Denied, ApprovalStatus.Approved)]
    [InlineData(ApprovalStatus.Expired, ApprovalStatus.Pending)]
    [InlineData(ApprovalStatus.Executed, ApprovalStatus.ExecutionFailed)]
    public async Task A_move_the_lifecycle_does_not_have_is_refused_before_touching_the_database(ApprovalStatus from, ApprovalStatus to)
    {
        var record = await InsertAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => _store.TryTransitionAsync(record.Id, from, to, Nine));
        Assert.Equal(ApprovalStatus.Pending, await StatusAsync(record.Id));
    }

    [Fact]
    public async Task Racing_decisions_have_exactly_one_winner()
    {
        var record = await InsertAsync();

        var won = await RaceAsync(16, i => _store.TryTransitionAsync(
            record.Id, ApprovalStatus.Pending, i % 2 == 0 ? ApprovalStatus.Approved : ApprovalStatus.Denied, Nine, $"slack:U{i}", $"User {i}", "slack"));

        var winner = Assert.Single(Enumerable.Range(0, 16), i => won[i]);
        var stored = (await _store.GetApprovalAsync(record.Id, CancellationToken.None))!;
        Assert.Equal(winner % 2 == 0 ? ApprovalStatus.Approved : ApprovalStatus.Denied, stored.Status);
        Assert.Equal($"slack:U{winner}", stored.DecidedBy);
    }

    [Fact]
    public async Task An_approved_approval_is_claimed_once_only_after_approval()
    {
        var record = await InsertAsync();
        Assert.False(await _store.TryClaimAsync(record.Id, Nine, CancellationToken.None));
        await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine, "slack:UALICE", "Alice", "slack", addApprover: "slack:UALICE");

        var won = await RaceAsync(16, _ => _store.TryClaimAsync(record.Id, Nine.AddMinutes(1), CancellationToken.None));

        Assert.Single(won, w => w);
        var claimed = (await _store.GetApprovalAsync(record.Id, CancellationToken.None))!;
        Assert.Equal(Nine.AddMinutes(1), claimed.ClaimedAt);
        Assert.Equal(["slack:UALICE"], claimed.ApprovedBy);
        Assert.Equal(record.Id, Assert.Single(await _store.ListClaimedUnfinishedAsync("gw-1", CancellationToken.None)).Id);
        Assert.Empty(await _store.ListClaimedUnfinishedAsync("gw-2", CancellationToken.None));
        Assert.True(await _store.TryTransitionAsync(record.Id, ApprovalStatus.Approved, ApprovalStatus.Executed, Nine.AddMinutes(2)));
        Assert.Empty(await _store.ListClaimedUnfinishedAsync("gw-1", CancellationToken.None));
        // Leaving Approved does not overwrite who decided.
        Assert.Equal("slack:UALICE", (await _store.GetApprovalAsync(record.Id, CancellationToken.None))!.DecidedBy);
    }

    [Fact]
    public async Task Two_votes_on_the_same_quorum_state_cannot_both_count()
    {
        var record = await InsertAsync(required: 3);

        var won = await RaceAsync(8, i => _store.TryAddVoteAsync(record.Id, [], $"slack:U{i}", CancellationToken.None));

        var winner = Assert.Single(Enumerable.Range(0, 8), i => won[i]);
        Assert.Equal([$"slack:U{winner}"], (await _store.GetApprovalAsync(record.Id, CancellationToken.None))!.ApprovedBy);
        // The next vote must have seen the first.
        Assert.False(await _store.TryAddVoteAsync(record.Id, [], "slack:UBOB", CancellationToken.None));
        Assert.True(await _store.TryAddVoteAsync(record.Id, [$"slack:U{winner}"], "slack:UBOB", CancellationToken.None));
        Assert.Equal([$"slack:U{winner}", "slack:UBOB"], (await _store.GetApprovalAsync(record.Id, CancellationToken.None))!.ApprovedBy);
        // No vote once it left Pending.
        await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Denied, Nine);
        Assert.False(await _store.TryAddVoteAsync(record.Id, [$"slack:U{winner}", "slack:UBOB"], "slack:UCAROL", CancellationToken.None));
    }

    [Fact]
    public async Task The_sweeper_and_a_click_racing_on_an_overdue_approval_have_one_winner()
    {
        var record = await InsertAsync(expiresIn: TimeSpan.FromMinutes(1));

        var sweep = Task.Run(() => _store.ExpireDueAsync(Nine.AddMinutes(1), CancellationToken.None));
        var click = Task.Run(() => _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine.AddMinutes(1), "slack:UALICE", "Alice", "slack"));
        var expired = await sweep;
        var approved = await click;

        Assert.NotEqual(expired.Contains(record.Id), approved);
        Assert.Equal(approved ? ApprovalStatus.Approved : ApprovalStatus.Expired, await StatusAsync(record.Id));
    }

    [Fact]
    public async Task Expiry_takes_only_pending_approvals_at_or_past_their_deadline_and_marks_them_for_publishing()
    {
        var due = await InsertAsync(digest: "due", expiresIn: TimeSpan.FromMinutes(1));
        var notYet = await InsertAsync(digest: "later", expiresIn: TimeSpan.FromMinutes(2));
        var decided = await InsertAsync(digest: "decided", expiresIn: TimeSpan.FromMinutes(1));
        await _store.TryTransitionAsync(decided.Id, ApprovalStatus.Pending, ApprovalStatus.Denied, Nine);
        foreach (var id in new[] { due.Id, notYet.Id, decided.Id })
        {
            await _store.MarkRequestPublishedAsync(id, CancellationToken.None);
            await _store.MarkResolutionPublishedAsync(id, CancellationToken.None);
        }

        var expired = await _store.ExpireDueAsync(Nine.AddMinutes(1), CancellationToken.None);

        Assert.Equal([due.Id], expired);
        Assert.Equal(ApprovalStatus.Expired, await StatusAsync(due.Id));
        Assert.Equal(ApprovalStatus.Pending, await StatusAsync(notYet.Id));
        Assert.Equal(ApprovalStatus.Denied, await StatusAsync(decided.Id));
        Assert.Equal(Nine.AddMinutes(1), (await _store.GetApprovalAsync(due.Id, CancellationToken.None))!.ResolvedAt);
        Assert.Equal([due.Id], (await _store.ListUnpublishedAsync("gw-1", CancellationToken.None)).Select(r => r.Id));
        Assert.Empty(await _store.ExpireDueAsync(Nine.AddMinutes(1), CancellationToken.None));
    }

    [Fact]
    public async Task Lapse_takes_only_approved_unclaimed_approvals_decided_before_the_cut()
    {
        var stale = await InsertAsync(digest: "stale");
        var recent = await InsertAsync(digest: "recent");
        var claimed = await InsertAsync(digest: "claimed");
        await _store.TryTransitionAsync(stale.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine);
        await _store.TryTransitionAsync(recent.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine.AddMinutes(5));
        await _store.TryTransitionAsync(claimed.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine);
        await _store.TryClaimAsync(claimed.Id, Nine.AddMinutes(1), CancellationToken.None);

        var lapsed = await _store.LapseDueAsync(Nine.AddMinutes(1), CancellationToken.None);

        Assert.Equal([stale.Id], lapsed);
        Assert.Equal(ApprovalStatus.Lapsed, await StatusAsync(stale.Id));
        Assert.Equal(ApprovalStatus.Approved, await StatusAsync(recent.Id));
        Assert.Equal(ApprovalStatus.Approved, await StatusAsync(claimed.Id));
        Assert.False(await _store.TryClaimAsync(stale.Id, Nine.AddMinutes(2), CancellationToken.None));
    }

    [Fact]
    public async Task The_identical_call_finds_the_newest_approval_of_its_agent_tool_and_digest()
    {
        var old = await InsertAsync(digest: "d1", requestedAt: Nine);
        var newer = await InsertAsync(digest: "d1", requestedAt: Nine.AddMinutes(1));
        await InsertAsync(agent: "agent-2", digest: "d1", requestedAt: Nine.AddMinutes(2));
        await InsertAsync(digest: "d2", requestedAt: Nine.AddMinutes(3));

        Assert.Equal(newer.Id, (await _store.FindLatestAsync("agent-1", "agentwork_cancel_task", "d1", CancellationToken.None))?.Id);
        Assert.Null(await _store.FindLatestAsync("agent-3", "agentwork_cancel_task", "d1", CancellationToken.None));
        Assert.Null(await _store.FindLatestAsync("agent-1", "agentwork_cancel_job", "d1", CancellationToken.None));
        Assert.Equal(3, await _store.CountPendingAsync("agent-1", CancellationToken.None));
        Assert.Equal(1, await _store.CountPendingAsync("agent-2", CancellationToken.None));
        Assert.Equal(4, await _store.CountPendingAsync(null, CancellationToken.None));
        Assert.NotEqual(old.Id, newer.Id);
    }

    [Fact]
    public async Task A_decision_message_is_remembered_once_even_when_redelivered_concurrently()
    {
        var decision = Guid.NewGuid();

        var first = await RaceAsync(8, _ => _store.TryRememberDecisionAsync(decision, Guid.NewGuid(), Nine, CancellationToken.None));

        Assert.Single(first, w => w);
        Assert.True(await _store.TryRememberDecisionAsync(Guid.NewGuid(), Guid.NewGuid(), Nine, CancellationToken.None));
    }

    [Fact]
    public async Task Publishing_is_tracked_per_instance_until_both_messages_went_out()
    {
        var record = await InsertAsync(instance: "gw-1");
        await InsertAsync(instance: "gw-2", digest: "other");
        Assert.Equal([record.Id], (await _store.ListUnpublishedAsync("gw-1", CancellationToken.None)).Select(r => r.Id));

        await _store.MarkRequestPublishedAsync(record.Id, CancellationToken.None);
        Assert.Empty(await _store.ListUnpublishedAsync("gw-1", CancellationToken.None));

        // Leaving Pending needs its ApprovalResolved published again.
        await _store.TryTransitionAsync(record.Id, ApprovalStatus.Pending, ApprovalStatus.Approved, Nine);
        Assert.Equal([record.Id], (await _store.ListUnpublishedAsync("gw-1", CancellationToken.None)).Select(r => r.Id));
        await _store.MarkResolutionPublishedAsync(record.Id, CancellationToken.None);
        Assert.Empty(await _store.ListUnpublishedAsync("gw-1", CancellationToken.None));
    }

    [Fact]
    public async Task A_replica_adopts_what_another_left_unsent_only_once_it_is_old_enough()
    {
        var left = await InsertAsync(instance: "gw-dead", requestedAt: Nine);
        var decided = await InsertAsync(instance: "gw-dead", digest: "decided", requestedAt: Nine.AddMinutes(-10));
        await _store.MarkRequestPublishedAsync(decided.Id, CancellationToken.None);
        await _store.TryTransitionAsync(decided.Id, ApprovalStatus.Pending, ApprovalStatus.Denied, Nine.AddMinutes(1));

        Assert.Empty(await _store.ListUnpublishedAsync("gw-2", CancellationToken.None)); // not sharing: never another's
        Assert.Empty(await _store.ListUnpublishedAsync("gw-2", CancellationToken.None, othersBefore: Nine));
        Assert.Equal([left.Id], (await _store.ListUnpublishedAsync("gw-2", CancellationToken.None, othersBefore: Nine.AddSeconds(1))).Select(r => r.Id));
        Assert.Equal([decided.Id, left.Id], (await _store.ListUnpublishedAsync("gw-2", CancellationToken.None, othersBefore: Nine.AddMinutes(2))).Select(r => r.Id));
    }
}

public sealed class SqliteGatewayStoreTests : GatewayStoreTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-gwstore-" + Guid.NewGuid().ToString("N"));

    private string DatabasePath => Path.Combine(_directory, "gateway.db");

    protected override async Task<GatewayStore> CreateStoreAsync()
    {
        Directory.CreateDirectory(_directory);
        var store = new GatewayStore(DatabasePath);
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    protected override GatewayStore OpenReplica() => new(DatabasePath);

    public override Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresGatewayStoreTests(PostgresServer server) : GatewayStoreTests
{
    private readonly List<PostgresDatabase> _databases = [];
    private string _connectionString = "";

    protected override async Task<GatewayStore> CreateStoreAsync()
    {
        _connectionString = await server.CreateDatabaseAsync();
        var store = OpenReplica();
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    protected override GatewayStore OpenReplica()
    {
        var database = new PostgresDatabase(_connectionString, "gateway");
        _databases.Add(database);
        return new GatewayStore(database);
    }

    public override async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }
}
