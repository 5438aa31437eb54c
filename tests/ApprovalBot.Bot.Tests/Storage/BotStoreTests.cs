using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Storage;
using ApprovalBot.Tests.Shared;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Bot.Tests.Storage;

/// <summary>
/// The bot store's behaviour, the same on both providers (a derived class per provider): the read
/// model's conditional writes, cards, settings, grants, and what replicas sharing one store rely on
/// (a card posted by one found by another, one poster per approval, heartbeats).
/// </summary>
public abstract class BotStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly Approver Alice = new("slack", "UALICE", "Alice", "T1");
    private static readonly CancellationToken None = CancellationToken.None;

    protected FakeTimeProvider Time { get; } = new(Now);

    /// <summary>A bot replica's store on this test's database (every call: the same database, another replica).</summary>
    private protected abstract Task<BotStore> ReplicaAsync(string replica);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual Task DisposeAsync() => Task.CompletedTask;

    private static ApprovalRequested Request(string tool = "agentwork_cancel_task", DateTimeOffset? requestedAt = null) => new(
        Guid.NewGuid(), tool, "agentwork", "ci-bot", """{"task_id":"T-42"}""", "d-1", "Cannot be undone",
        ["slack:UALICE"], 1, requestedAt ?? Now.AddMinutes(-1), Now.AddMinutes(14), new Uri("rabbitmq://localhost/approvalbot-gateway-gw-1"), "gw-1");

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value);

    private async Task<BotStore> StoreAsync()
    {
        var store = await ReplicaAsync("bot-1");
        await store.MigrateAsync(None);
        return store;
    }

    [Fact]
    public async Task An_approval_is_stored_once_resolved_once_and_executed_once()
    {
        var store = await StoreAsync();
        var request = Request();

        Assert.True(await store.ClaimPostingAsync(request, None));
        Assert.False(await store.ClaimPostingAsync(request, None)); // redelivered
        Assert.False(await store.AddRequestedAsync(request, None));
        var pending = (await store.GetAsync(request.ApprovalId, None))!;
        Assert.Equal((ApprovalStatus.Pending, true), (pending.Status, pending.AgentWaiting));
        Assert.Equal(Json(request), Json(pending.Request));

        Assert.True(await store.RecordVoteAsync(new ApprovalVoted(request.ApprovalId, Alice, 1, 2, Now), None));
        Assert.False(await store.RecordVoteAsync(new ApprovalVoted(request.ApprovalId, Alice, 1, 2, Now), None));
        Assert.Equal(Alice, (await store.GetAsync(request.ApprovalId, None))!.DecidedBy);

        var grant = Guid.NewGuid();
        var resolved = new ApprovalResolved(request.ApprovalId, "Approved", Alice, "ok", Now.AddSeconds(5), Now.AddMinutes(30), grant, Now.AddHours(1), """{"task_id":"T-43"}""");
        Assert.True(await store.ResolveAsync(resolved, None));
        Assert.False(await store.ResolveAsync(resolved with { Status = "Denied" }, None));
        var approved = (await store.GetAsync(request.ApprovalId, None))!;
        Assert.Equal(
            (ApprovalStatus.Approved, "ok", Now.AddSeconds(5), Now.AddMinutes(30), grant, Now.AddHours(1), """{"task_id":"T-43"}""", true),
            (approved.Status, approved.Comment, approved.ResolvedAt, approved.CollectBy, approved.GrantId, approved.GrantUntil, approved.EditedArguments, approved.AwaitsCollection));
        Assert.Equal([request.ApprovalId], (await store.ListAwaitingCollectionAsync(10, None)).Select(v => v.Id));
        Assert.Equal(1, await store.CountAwaitingCollectionAsync(None));

        Assert.True(await store.RecordExecutionAsync(new ApprovalExecuted(request.ApprovalId, true, "Task T-43 cancelled.", Now.AddSeconds(6)), None));
        Assert.False(await store.RecordExecutionAsync(new ApprovalExecuted(request.ApprovalId, false, "again", Now.AddSeconds(7)), None));
        var executed = (await store.GetAsync(request.ApprovalId, None))!;
        Assert.Equal((true, "Task T-43 cancelled."), (executed.Succeeded, executed.ExecutionSummary));
        Assert.Empty(await store.ListAwaitingCollectionAsync(10, None));
        Assert.Null(await store.GetAsync(Guid.NewGuid(), None));
    }

    [Fact]
    public async Task Lists_and_counts_filter_by_status_order_by_request_time_and_honour_the_limit()
    {
        var store = await StoreAsync();
        var first = Request(requestedAt: Now.AddMinutes(-3));
        var second = Request(requestedAt: Now.AddMinutes(-2));
        var denied = Request(requestedAt: Now.AddMinutes(-1));
        foreach (var request in new[] { second, denied, first })
        {
            await store.AddRequestedAsync(request, None);
        }

        await store.ResolveAsync(new ApprovalResolved(denied.ApprovalId, "Denied", Alice, "no", Now), None);

        Assert.Equal([first.ApprovalId, second.ApprovalId], (await store.ListAsync(ApprovalStatus.Pending, 10, None)).Select(v => v.Id));
        Assert.Equal([first.ApprovalId], (await store.ListAsync(ApprovalStatus.Pending, 1, None)).Select(v => v.Id));
        Assert.Equal([first.ApprovalId, second.ApprovalId, denied.ApprovalId], (await store.ListAsync(null, 10, None)).Select(v => v.Id));
        Assert.Equal(2, await store.CountAsync(ApprovalStatus.Pending, None));
        Assert.Equal(0, await store.CountAsync(ApprovalStatus.Expired, None));
        var today = await store.CountResolvedSinceAsync(Now.AddHours(-1), None);
        Assert.Equal(1, Assert.Single(today, c => c.Key == "Denied").Value);
        Assert.Empty(await store.CountResolvedSinceAsync(Now.AddHours(1), None));
    }

    [Fact]
    public async Task Waiting_keeps_the_newest_message_and_reports_a_change_only_while_pending()
    {
        var store = await StoreAsync();
        var request = Request();
        Assert.Equal(ReadModelChange.NotYetKnown, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, false, Now), None));
        await store.AddRequestedAsync(request, None);

        Assert.Equal(ReadModelChange.Unchanged, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, true, Now.AddSeconds(1)), None));
        Assert.Equal(ReadModelChange.Changed, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, false, Now.AddSeconds(40)), None));
        Assert.Equal(ReadModelChange.Unchanged, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, false, Now.AddSeconds(40)), None));
        Assert.Equal(ReadModelChange.Unchanged, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, true, Now.AddSeconds(20)), None));
        Assert.False((await store.GetAsync(request.ApprovalId, None))!.AgentWaiting);
        Assert.Equal(ReadModelChange.Changed, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, true, Now.AddSeconds(90)), None));
        Assert.True((await store.GetAsync(request.ApprovalId, None))!.AgentWaiting);
    }

    [Fact]
    public async Task Concurrent_waiting_messages_leave_the_newest_whatever_the_order()
    {
        var store = await StoreAsync();
        var request = Request();
        await store.AddRequestedAsync(request, None);
        var messages = Enumerable.Range(1, 20).Select(i => new ApprovalWaiting(request.ApprovalId, i % 2 == 0, Now.AddSeconds(i))).Reverse().ToList();

        await Task.WhenAll(messages.Select(m => Task.Run(() => store.RecordWaitingAsync(m, None))));

        Assert.True((await store.GetAsync(request.ApprovalId, None))!.AgentWaiting); // the 20th said "waiting"
        Assert.Equal(ReadModelChange.Unchanged, await store.RecordWaitingAsync(new ApprovalWaiting(request.ApprovalId, false, Now.AddSeconds(19)), None));
    }

    [Fact]
    public async Task Lapsed_once_after_approval_and_not_yet_known_before_it()
    {
        var store = await StoreAsync();
        var request = Request();
        Assert.Equal(ReadModelChange.NotYetKnown, await store.RecordLapsedAsync(new ApprovalLapsed(request.ApprovalId, Now), None));
        await store.AddRequestedAsync(request, None);
        Assert.Equal(ReadModelChange.NotYetKnown, await store.RecordLapsedAsync(new ApprovalLapsed(request.ApprovalId, Now), None));
        await store.ResolveAsync(new ApprovalResolved(request.ApprovalId, "Approved", Alice, null, Now, Now.AddMinutes(1)), None);

        Assert.Equal(ReadModelChange.Changed, await store.RecordLapsedAsync(new ApprovalLapsed(request.ApprovalId, Now.AddMinutes(1)), None));
        Assert.Equal(ReadModelChange.Unchanged, await store.RecordLapsedAsync(new ApprovalLapsed(request.ApprovalId, Now.AddMinutes(1)), None));
        Assert.Equal(ApprovalStatus.Lapsed, (await store.GetAsync(request.ApprovalId, None))!.Status);
    }

    [Fact]
    public async Task Escalation_replaces_the_approvers_in_the_stored_request_once()
    {
        var store = await StoreAsync();
        var request = Request();
        var escalated = new ApprovalEscalated(request.ApprovalId, ["slack:UBOB", "teams:c0ffee"], ["slack:UALICE", "slack:UBOB", "teams:c0ffee"], Now.AddMinutes(5));
        Assert.Equal(ReadModelChange.NotYetKnown, await store.RecordEscalatedAsync(escalated, None));
        await store.AddRequestedAsync(request, None);

        Assert.Equal(ReadModelChange.Changed, await store.RecordEscalatedAsync(escalated, None));
        Assert.Equal(ReadModelChange.Unchanged, await store.RecordEscalatedAsync(escalated, None));
        var view = (await store.GetAsync(request.ApprovalId, None))!;
        Assert.Equal(["slack:UALICE", "slack:UBOB", "teams:c0ffee"], view.Request.Approvers);
        // The rest of the request as it was (PostgreSQL's jsonb_set rewrites the document).
        Assert.Equal(Json(request with { Approvers = view.Request.Approvers }), Json(view.Request));
        Assert.Equal(Now.AddMinutes(5), view.EscalatedAt);
        Assert.Equal(["slack:UBOB", "teams:c0ffee"], view.EscalatedTo!);
    }

    [Fact]
    public async Task Cards_are_kept_once_per_reference_and_settings_are_replaced()
    {
        var store = await StoreAsync();
        var id = Guid.NewGuid();
        await store.SaveAsync(id, "slack", "C1:1.000100", None);
        await store.SaveAsync(id, "slack", "C1:1.000100", None);
        await store.SaveAsync(id, "teams", "conv|act|https://smba.example", None);

        Assert.Equal(["C1:1.000100"], await store.GetAsync(id, "slack", None));
        Assert.Equal(["conv|act|https://smba.example"], await store.GetAsync(id, "teams", None));
        Assert.Empty(await store.GetAsync(id, "SLACK", None)); // channel names are exact
        Assert.Null(await store.GetSettingAsync("teams.channel", None));
        await store.SetSettingAsync("teams.channel", "19:a", None);
        await store.SetSettingAsync("teams.channel", "19:b", None);
        Assert.Equal("19:b", await store.GetSettingAsync("teams.channel", None));
    }

    [Fact]
    public async Task Grants_are_added_once_ended_once_and_listed_while_active()
    {
        var store = await StoreAsync();
        var created = new GrantCreated(Guid.NewGuid(), Guid.NewGuid(), "ci-bot", "agentwork_cancel_task", "agentwork", "cancel", "tool", null, Alice, "slack",
            Now, Now.AddHours(1), ["slack:UALICE"], new Uri("rabbitmq://localhost/approvalbot-gateway-gw-1"), "gw-1");
        var ended = new GrantEnded(created.GrantId, "revoked", Alice, "done", Now.AddMinutes(10));
        Assert.Equal(ReadModelChange.NotYetKnown, await store.EndGrantAsync(ended, None));

        Assert.True(await store.AddGrantAsync(created, None));
        Assert.False(await store.AddGrantAsync(created, None));
        Assert.Equal([created.GrantId], (await store.ListGrantsAsync(activeOnly: true, Now, 10, None)).Select(g => g.Id));
        Assert.Equal(1, await store.CountActiveGrantsAsync(Now, None));
        Assert.Equal(0, await store.CountActiveGrantsAsync(Now.AddHours(2), None));

        Assert.Equal(ReadModelChange.Changed, await store.EndGrantAsync(ended, None));
        Assert.Equal(ReadModelChange.Unchanged, await store.EndGrantAsync(ended, None));
        Assert.Empty(await store.ListGrantsAsync(activeOnly: true, Now, 10, None));
        var view = (await store.GetGrantAsync(created.GrantId, None))!;
        Assert.Equal(Json(created), Json(view.Grant));
        Assert.Equal((Now.AddMinutes(10), "revoked", Alice, "done"), (view.EndedAt, view.EndReason, view.EndedBy, view.EndComment));
        Assert.Equal([created.GrantId], (await store.ListGrantsAsync(activeOnly: false, Now, 10, None)).Select(g => g.Id));
    }

    [Fact]
    public async Task A_card_one_replica_posted_is_found_by_another()
    {
        var one = await StoreAsync();
        var two = await ReplicaAsync("bot-2");
        await two.MigrateAsync(None);
        var request = Request();

        Assert.True(await one.ClaimPostingAsync(request, None));
        await one.SaveAsync(request.ApprovalId, "slack", "C1:1.000100", None);
        await one.MarkPostedAsync(request.ApprovalId, None);

        Assert.Equal(["C1:1.000100"], await two.GetAsync(request.ApprovalId, "slack", None));
        Assert.True(await two.ResolveAsync(new ApprovalResolved(request.ApprovalId, "Approved", Alice, null, Now), None));
        Assert.Equal(ApprovalStatus.Approved, (await one.GetAsync(request.ApprovalId, None))!.Status);
        Assert.False(await two.ClaimPostingAsync(request, None)); // the same request on the other replica posts nothing
    }

    [Fact]
    public async Task Of_replicas_claiming_the_posting_at_once_exactly_one_wins()
    {
        var replicas = new List<BotStore>();
        for (var i = 1; i <= 4; i++)
        {
            var replica = await ReplicaAsync($"bot-{i}");
            await replica.MigrateAsync(None);
            replicas.Add(replica);
        }

        for (var round = 0; round < 5; round++)
        {
            var request = Request();
            var claims = await Task.WhenAll(replicas.SelectMany(r => new[] { r, r }).Select(r => Task.Run(() => r.ClaimPostingAsync(request, None))));
            Assert.Single(claims, c => c);
        }
    }

    [Fact]
    public async Task A_posting_abandoned_past_its_lease_is_taken_over_once_and_a_finished_one_never()
    {
        var one = await StoreAsync();
        var two = await ReplicaAsync("bot-2");
        var three = await ReplicaAsync("bot-3");
        var abandoned = Request();
        var finished = Request();
        Assert.True(await one.ClaimPostingAsync(abandoned, None));
        Assert.True(await one.ClaimPostingAsync(finished, None));
        await one.MarkPostedAsync(finished.ApprovalId, None);

        // Within the lease the first replica may still be posting (Slack's retries).
        Time.Advance(BotStore.PostingLease - TimeSpan.FromSeconds(1));
        Assert.False(await two.ClaimPostingAsync(abandoned, None));
        // …so the other replica must come back to it, not drop it; a finished one it may drop.
        Assert.True(await two.PostingUnfinishedElsewhereAsync(abandoned.ApprovalId, None));
        Assert.False(await one.PostingUnfinishedElsewhereAsync(abandoned.ApprovalId, None));
        Assert.False(await two.PostingUnfinishedElsewhereAsync(finished.ApprovalId, None));

        Time.Advance(TimeSpan.FromSeconds(2));
        var takeovers = await Task.WhenAll(new[] { two, three }.Select(r => Task.Run(() => r.ClaimPostingAsync(abandoned, None))));
        Assert.Single(takeovers, c => c);
        Assert.False(await two.ClaimPostingAsync(finished, None));

        // Decided meanwhile: a card would only show the end; nobody posts it any more.
        var decided = Request();
        Assert.True(await one.ClaimPostingAsync(decided, None));
        await one.ResolveAsync(new ApprovalResolved(decided.ApprovalId, "Denied", Alice, null, Now), None);
        Time.Advance(BotStore.PostingLease * 2);
        Assert.False(await two.ClaimPostingAsync(decided, None));
        Assert.False(await two.PostingUnfinishedElsewhereAsync(decided.ApprovalId, None));
    }

    [Fact]
    public async Task Heartbeats_list_each_replica_online_or_offline()
    {
        var one = await StoreAsync();
        var two = await ReplicaAsync("bot-2");
        await one.BeatAsync(Now, None);
        await two.BeatAsync(Now, None);
        Time.Advance(TimeSpan.FromSeconds(40));
        await one.BeatAsync(Now, None);

        var replicas = await one.ListReplicasAsync(Now.AddHours(-1), TimeSpan.FromSeconds(35), None);

        Assert.Equal(
            [("bot-1", true, true, Now.AddSeconds(40)), ("bot-2", false, false, Now)],
            replicas.Select(r => (r.Instance, r.Online, r.Self, r.LastSeen)));
        Assert.Equal(1, await one.ForgetReplicasAsync(Now.AddSeconds(1), None));
        Assert.Equal(["bot-1"], (await two.ListReplicasAsync(Now.AddHours(-1), TimeSpan.FromSeconds(35), None)).Select(r => r.Instance));
    }
}

/// <summary>Each replica opens the same SQLite file (what two bots on one host sharing a disk would do).</summary>
public sealed class SqliteBotStoreTests : BotStoreTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-botstore-" + Guid.NewGuid().ToString("N"));

    private protected override Task<BotStore> ReplicaAsync(string replica)
    {
        Directory.CreateDirectory(_directory);
        return Task.FromResult(new BotStore(new SqliteDatabase(Path.Combine(_directory, "bot.db")), replica, Time));
    }

    public override Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Each replica opens the "bot" schema of one PostgreSQL database, as replicas in production do.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresBotStoreTests(PostgresServer server) : BotStoreTests
{
    private readonly List<PostgresDatabase> _databases = [];
    private string _connectionString = "";

    public override async Task InitializeAsync() => _connectionString = await server.CreateDatabaseAsync();

    private protected override Task<BotStore> ReplicaAsync(string replica)
    {
        var database = new PostgresDatabase(_connectionString, "bot");
        _databases.Add(database);
        return Task.FromResult(new BotStore(database, replica, Time));
    }

    public override async Task DisposeAsync()
    {
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
    }
}
