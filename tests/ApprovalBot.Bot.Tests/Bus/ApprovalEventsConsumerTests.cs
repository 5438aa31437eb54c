using System.Collections.Concurrent;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Bus;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using MassTransit;
using ApprovalBot.Bot.Tests.Slack;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Bot.Tests.Bus;

/// <summary>
/// The bot's approval-event consumer on MassTransit's in-memory test harness (registered as the
/// executable registers it: <c>AddConsumer&lt;ApprovalEventsConsumer&gt;</c>) with the real SQLite
/// read model: ApprovalWaiting ordering and idempotence, ApprovalLapsed reaching the cards once.
/// </summary>
public sealed class ApprovalEventsConsumerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly Approver Alice = new("slack", "U024BE7LH", "alice", "T0TEAM0001");

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-bot-tests-" + Guid.NewGuid().ToString("N"));
    private readonly RecordingChannel _channel = new();
    private ServiceProvider _services = null!;
    private ITestHarness _harness = null!;
    private BotStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _store = new BotStore(Path.Combine(_directory, "bot.db"));
        await _store.MigrateAsync(CancellationToken.None);
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(_store)
            .AddSingleton<TimeProvider>(new FakeTimeProvider(Now))
            .AddSingleton<HeartbeatTracker>()
            .AddSingleton<IApprovalChannel>(_channel)
            .AddMassTransitTestHarness(x => x.AddConsumer<ApprovalEventsConsumer>())
            .BuildServiceProvider(true);
        _harness = _services.GetRequiredService<ITestHarness>();
        await _harness.Start();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Publishes and waits (bounded) until the consumer has handled this publication.</summary>
    private async Task DeliverAsync<T>(T message)
        where T : class
    {
        var consumer = _harness.GetConsumerHarness<ApprovalEventsConsumer>();
        var before = consumer.Consumed.Select<T>().Count();
        await _harness.Bus.Publish(message);
        await Eventually.TrueAsync(() => consumer.Consumed.Select<T>().Count() > before, $"{typeof(T).Name} to be consumed");
    }

    /// <summary>Publishes and waits (bounded) until the consumer has thrown on it: on the bot's endpoint that means a retry.</summary>
    private async Task<Exception> FaultAsync<T>(T message)
        where T : class
    {
        var consumer = _harness.GetConsumerHarness<ApprovalEventsConsumer>();
        await _harness.Bus.Publish(message);
        IReceivedMessage<T>? faulted = null;
        await Eventually.TrueAsync(
            () => (faulted = consumer.Consumed.Select<T>(m => m.Context.Message.Equals(message) && m.Exception is not null).FirstOrDefault()) is not null,
            $"{typeof(T).Name} to fault");
        return faulted!.Exception;
    }

    private async Task<ApprovalRequested> RequestAsync()
    {
        var request = new ApprovalRequested(
            Guid.NewGuid(), "agentwork_cancel_task", "agentwork", "ci-bot", """{"task_id":"T-42"}""", "3f2a9c0e", "Cannot be undone",
            ["slack:" + Alice.UserId], 1, Now.AddMinutes(-1), Now.AddMinutes(14), new Uri("loopback://localhost/gateway-1"), "gateway-1");
        await DeliverAsync(request);
        return request;
    }

    private Task<ApprovalView?> ViewAsync(Guid id) => _store.GetAsync(id, CancellationToken.None);

    [Fact]
    public async Task ApprovalWaiting_changes_the_card_once_and_an_older_or_repeated_message_changes_nothing()
    {
        var request = await RequestAsync();
        var id = request.ApprovalId;
        Assert.True((await ViewAsync(id))!.AgentWaiting); // a new approval starts with its call held
        Assert.Single(_channel.Calls, c => c.Kind == "show");

        // Same as the start: stored, but no card changes.
        await DeliverAsync(new ApprovalWaiting(id, true, Now.AddSeconds(1)));
        Assert.Empty(_channel.Updates(id));

        // Handed back: every card says the agent will collect it.
        var handedBack = new ApprovalWaiting(id, false, Now.AddSeconds(40));
        await DeliverAsync(handedBack);
        var update = Assert.Single(_channel.Updates(id));
        Assert.False(update.AgentWaiting);
        Assert.False((await ViewAsync(id))!.AgentWaiting);

        // Redelivered: nothing.
        await DeliverAsync(handedBack);
        // Older than what is stored (overtaken on the bus): nothing, the stored state stays.
        await DeliverAsync(new ApprovalWaiting(id, true, Now.AddSeconds(20)));
        Assert.Single(_channel.Updates(id));
        Assert.False((await ViewAsync(id))!.AgentWaiting);

        // The agent calls again: cards say it waits.
        await DeliverAsync(new ApprovalWaiting(id, true, Now.AddSeconds(90)));
        Assert.Equal([false, true], _channel.Updates(id).Select(v => v.AgentWaiting));
        Assert.True((await ViewAsync(id))!.AgentWaiting);
    }

    [Fact]
    public async Task A_request_whose_cards_another_replica_claimed_but_did_not_post_comes_back_instead_of_being_dropped()
    {
        // Another bot replica on the same store took the posting, then (say) died before posting.
        var other = new BotStore(new ApprovalBot.Storage.SqliteDatabase(Path.Combine(_directory, "bot.db")), "bot-2");
        var request = new ApprovalRequested(
            Guid.NewGuid(), "agentwork_cancel_task", "agentwork", "ci-bot", """{"task_id":"T-43"}""", "3f2a9c0e", "Cannot be undone",
            ["slack:" + Alice.UserId], 1, Now.AddMinutes(-1), Now.AddMinutes(14), new Uri("loopback://localhost/gateway-1"), "gateway-1");
        Assert.True(await other.ClaimPostingAsync(request, CancellationToken.None));

        // The bus hands its message to this replica: not posted, not dropped, but thrown back to be retried past the lease.
        var consumer = _harness.GetConsumerHarness<ApprovalEventsConsumer>();
        await _harness.Bus.Publish(request);
        IReceivedMessage<ApprovalRequested>? faulted = null;
        await Eventually.TrueAsync(
            () => (faulted = consumer.Consumed.Select<ApprovalRequested>(m => m.Context.Message.ApprovalId == request.ApprovalId && m.Exception is not null).FirstOrDefault()) is not null,
            "the request to be thrown back");
        Assert.IsType<CardPostingInProgressException>(faulted!.Exception);
        Assert.DoesNotContain(_channel.Calls, c => c.Kind == "show" && c.View.Id == request.ApprovalId);

        // Once the other replica has posted, the retried message ends quietly.
        await other.MarkPostedAsync(request.ApprovalId, CancellationToken.None);
        await DeliverAsync(request);
        Assert.DoesNotContain(_channel.Calls, c => c.Kind == "show" && c.View.Id == request.ApprovalId);
    }

    [Fact]
    public async Task A_newer_message_with_the_same_value_still_makes_an_older_one_lose()
    {
        var request = await RequestAsync();
        var id = request.ApprovalId;

        await DeliverAsync(new ApprovalWaiting(id, false, Now.AddSeconds(10)));
        await DeliverAsync(new ApprovalWaiting(id, false, Now.AddSeconds(30))); // no visible change, but newer
        await DeliverAsync(new ApprovalWaiting(id, true, Now.AddSeconds(20)));  // older than the last one: ignored

        Assert.False((await ViewAsync(id))!.AgentWaiting);
        Assert.Single(_channel.Updates(id));
    }

    [Fact]
    public async Task ApprovalWaiting_after_the_decision_does_not_touch_the_final_card()
    {
        var request = await RequestAsync();
        var id = request.ApprovalId;
        await DeliverAsync(new ApprovalResolved(id, "Denied", Alice, "no", Now));

        await DeliverAsync(new ApprovalWaiting(id, false, Now.AddSeconds(5)));

        Assert.Single(_channel.Updates(id)); // the denial only
        Assert.Equal(ApprovalStatus.Denied, (await ViewAsync(id))!.Status);
    }

    [Fact]
    public async Task ApprovalWaiting_before_its_request_faults_so_the_bus_retries_it()
    {
        var id = Guid.NewGuid();

        var exception = await FaultAsync(new ApprovalWaiting(id, false, Now));

        Assert.IsType<ApprovalNotYetKnownException>(exception);
        Assert.Empty(_channel.Calls);
    }

    [Fact]
    public async Task Approved_with_nobody_waiting_keeps_its_collect_by_and_lapsing_updates_the_cards_once()
    {
        var request = await RequestAsync();
        var id = request.ApprovalId;
        await DeliverAsync(new ApprovalWaiting(id, false, Now));
        var collectBy = Now.AddMinutes(30);

        await DeliverAsync(new ApprovalResolved(id, "Approved", Alice, null, Now.AddMinutes(1), collectBy));

        var approved = (await ViewAsync(id))!;
        Assert.Equal(ApprovalStatus.Approved, approved.Status);
        Assert.Equal(collectBy, approved.CollectBy);
        Assert.True(approved.AwaitsCollection);
        var report = await new StatusReport(_store, _services.GetRequiredService<HeartbeatTracker>(), new FakeTimeProvider(Now.AddMinutes(2))).GetAsync(10, CancellationToken.None);
        Assert.Equal(id, Assert.Single(report.AwaitingCollection).Id);
        Assert.Equal(1, report.AwaitingCollectionTotal);

        var lapsed = new ApprovalLapsed(id, collectBy);
        await DeliverAsync(lapsed);
        await DeliverAsync(lapsed); // redelivered

        var updates = _channel.Updates(id);
        Assert.Equal([ApprovalStatus.Pending, ApprovalStatus.Approved, ApprovalStatus.Lapsed], updates.Select(v => v.Status));
        Assert.Equal(Alice, updates[^1].DecidedBy);
        var view = (await ViewAsync(id))!;
        Assert.Equal(ApprovalStatus.Lapsed, view.Status);
        Assert.Equal(id, Assert.Single(await _store.ListAsync(ApprovalStatus.Lapsed, 10, CancellationToken.None)).Id);

        var after = await new StatusReport(_store, _services.GetRequiredService<HeartbeatTracker>(), new FakeTimeProvider(Now.AddMinutes(31))).GetAsync(10, CancellationToken.None);
        Assert.Empty(after.AwaitingCollection);
        Assert.Equal(1, after.Today.Approved);
        Assert.Equal(1, after.Today.Lapsed);
    }

    [Fact]
    public async Task A_lapse_after_execution_changes_nothing_and_a_lapse_before_the_approval_faults_for_a_retry()
    {
        var executed = await RequestAsync();
        await DeliverAsync(new ApprovalResolved(executed.ApprovalId, "Approved", Alice, null, Now, Now.AddMinutes(30)));
        await DeliverAsync(new ApprovalExecuted(executed.ApprovalId, true, "done", Now.AddMinutes(2)));
        await DeliverAsync(new ApprovalLapsed(executed.ApprovalId, Now.AddMinutes(30)));
        Assert.Equal(ApprovalStatus.Approved, (await ViewAsync(executed.ApprovalId))!.Status);
        Assert.Single(_channel.Updates(executed.ApprovalId));

        var pending = await RequestAsync();
        Assert.IsType<ApprovalNotYetKnownException>(await FaultAsync(new ApprovalLapsed(pending.ApprovalId, Now)));
        Assert.Equal(ApprovalStatus.Pending, (await ViewAsync(pending.ApprovalId))!.Status);
        Assert.Empty(_channel.Updates(pending.ApprovalId));
    }

    [Fact]
    public async Task A_withdrawal_is_stored_as_cancelled_by_the_person()
    {
        var request = await RequestAsync();

        await DeliverAsync(new ApprovalResolved(request.ApprovalId, "Cancelled", Alice, "raised by mistake", Now));

        var view = (await ViewAsync(request.ApprovalId))!;
        Assert.Equal(ApprovalStatus.Cancelled, view.Status);
        Assert.Equal(Alice, view.DecidedBy);
        Assert.Equal("Withdrawn by alice.", ApprovalText.Describe(view, Now));
    }

    private sealed class RecordingChannel : IApprovalChannel
    {
        private readonly ConcurrentQueue<(string Kind, ApprovalView View)> _calls = new();

        public string Name => "recording";

        public IReadOnlyList<(string Kind, ApprovalView View)> Calls => _calls.ToArray();

        public IReadOnlyList<ApprovalView> Updates(Guid id) => Calls.Where(c => c.Kind == "update" && c.View.Id == id).Select(c => c.View).ToList();

        public Task ShowAsync(ApprovalView approval, CancellationToken cancellationToken) => Record("show", approval);

        public Task UpdateAsync(ApprovalView approval, CancellationToken cancellationToken) => Record("update", approval);

        public Task ExecutedAsync(ApprovalView approval, CancellationToken cancellationToken) => Record("executed", approval);

        private Task Record(string kind, ApprovalView approval)
        {
            _calls.Enqueue((kind, approval));
            return Task.CompletedTask;
        }
    }
}
