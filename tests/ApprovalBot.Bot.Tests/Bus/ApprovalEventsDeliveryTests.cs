using System.Collections.Concurrent;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Bus;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Storage;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Bus;

/// <summary>
/// The bot's approval events as the bus really delivers them, on the bot's own endpoint set-up
/// (<see cref="BotBus"/>: the retry policy included) over the in-memory transport: messages out of
/// order, redelivered, and one channel failing while the others carry on.
/// </summary>
public sealed class ApprovalEventsDeliveryTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly Approver Alice = new("slack", "U024BE7LH", "alice", "T0TEAM0001");

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-bot-delivery-" + Guid.NewGuid().ToString("N"));
    private readonly Recording _slack = new("slack");
    private readonly Recording _teams = new("teams");
    private readonly Failing _broken = new();
    private readonly ListLoggerProvider _logs = new();
    private ServiceProvider _services = null!;
    private ITestHarness _harness = null!;
    private BotStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _store = new BotStore(Path.Combine(_directory, "bot.db"));
        await _store.MigrateAsync(CancellationToken.None);
        _services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(_logs).SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace))
            .AddSingleton(_store)
            .AddSingleton(TimeProvider.System)
            .AddSingleton<HeartbeatTracker>()
            .AddSingleton<IApprovalChannel>(_slack)
            .AddSingleton<IApprovalChannel>(_broken)
            .AddSingleton<IApprovalChannel>(_teams)
            .AddMassTransitTestHarness(x =>
            {
                x.AddBotConsumers();
                x.UsingInMemory((context, bus) => bus.ConfigureBotEndpoints(context, "bot-test", _ => { }));
            })
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

    private static ApprovalRequested Request(Guid? id = null) => new(
        id ?? Guid.NewGuid(), "agentwork_cancel_task", "agentwork", "ci-bot", """{"task_id":"T-42"}""", "3f2a9c0e", "Cannot be undone",
        ["slack:" + Alice.UserId], 2, Now.AddMinutes(-1), Now.AddMinutes(14), new Uri("loopback://localhost/gateway-1"), "gateway-1");

    /// <summary>Publishes and waits until the consumer has taken one more <typeparamref name="T"/> without an exception.</summary>
    private async Task DeliverAsync<T>(T message)
        where T : class
    {
        var consumer = _harness.GetConsumerHarness<ApprovalEventsConsumer>();
        var before = consumer.Consumed.Select<T>(m => m.Exception is null).Count();
        await _harness.Bus.Publish(message);
        await Eventually.TrueAsync(
            () => consumer.Consumed.Select<T>(m => m.Exception is null).Count() > before,
            $"{typeof(T).Name} to be consumed",
            TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_decision_that_overtakes_its_request_is_retried_and_lands_once_the_request_is_in()
    {
        var request = Request();

        await _harness.Bus.Publish(new ApprovalResolved(request.ApprovalId, "Denied", Alice, "no", Now));
        await WaitForRetryAsync<ApprovalResolved>();
        Assert.Empty(_slack.Calls);
        await _harness.Bus.Publish(request);

        await Eventually.TrueAsync(() => _slack.Updates(request.ApprovalId).Count == 1, "the retried decision to reach the cards", TimeSpan.FromSeconds(30));
        Assert.Equal(["show", "update"], _slack.Calls.Select(c => c.Kind));
        Assert.Equal(ApprovalStatus.Denied, _slack.Updates(request.ApprovalId)[0].Status);
        Assert.Equal(ApprovalStatus.Denied, (await _store.GetAsync(request.ApprovalId, CancellationToken.None))!.Status);
        Assert.False(await _harness.Published.Any<Fault<ApprovalResolved>>());
    }

    [Fact]
    public async Task A_vote_that_overtakes_its_request_is_retried_too()
    {
        var request = Request();

        await _harness.Bus.Publish(new ApprovalVoted(request.ApprovalId, Alice, 1, 2, Now));
        await WaitForRetryAsync<ApprovalVoted>();
        await _harness.Bus.Publish(request);

        await Eventually.TrueAsync(() => _teams.Updates(request.ApprovalId).Count == 1, "the retried vote to reach the cards", TimeSpan.FromSeconds(30));
        Assert.Equal(Alice, _teams.Updates(request.ApprovalId)[0].DecidedBy);
        Assert.Equal(ApprovalStatus.Pending, _teams.Updates(request.ApprovalId)[0].Status);
    }

    /// <summary>Until MassTransit says it will retry a <typeparamref name="T"/> (its R-RETRY line): the first attempt failed.</summary>
    private Task WaitForRetryAsync<T>() =>
        Eventually.TrueAsync(
            () => _logs.Lines.Any(l => l.Message.StartsWith("R-RETRY", StringComparison.Ordinal) && l.Message.Contains(typeof(T).FullName!, StringComparison.Ordinal)),
            $"a retry of {typeof(T).Name}",
            TimeSpan.FromSeconds(30));

    [Fact]
    public async Task Every_event_redelivered_reaches_the_cards_once()
    {
        var request = Request();
        var voted = new ApprovalVoted(request.ApprovalId, Alice, 1, 2, Now.AddSeconds(10));
        var resolved = new ApprovalResolved(request.ApprovalId, "Approved", Alice, null, Now.AddSeconds(20));
        var executed = new ApprovalExecuted(request.ApprovalId, true, "Task T-42 cancelled.", Now.AddSeconds(21));

        foreach (var message in new object[] { request, request, voted, voted, resolved, resolved, executed, executed })
        {
            await (Task)typeof(ApprovalEventsDeliveryTests).GetMethod(nameof(DeliverAsync), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
                .MakeGenericMethod(message.GetType()).Invoke(this, [message])!;
        }

        foreach (var channel in new[] { _slack, _teams })
        {
            Assert.Equal(["show", "update", "update", "executed"], channel.Calls.Select(c => c.Kind));
            Assert.Equal([ApprovalStatus.Pending, ApprovalStatus.Approved], channel.Updates(request.ApprovalId).Select(v => v.Status));
        }

        var view = (await _store.GetAsync(request.ApprovalId, CancellationToken.None))!;
        Assert.Equal((ApprovalStatus.Approved, true, "Task T-42 cancelled."), (view.Status, view.Succeeded, view.ExecutionSummary));
    }

    [Fact]
    public async Task One_channel_failing_does_not_keep_the_others_from_their_cards_nor_make_the_bus_retry()
    {
        var request = Request();

        await DeliverAsync(request);
        await DeliverAsync(new ApprovalResolved(request.ApprovalId, "Approved", Alice, null, Now));

        Assert.Equal(["show", "update"], _slack.Calls.Select(c => c.Kind));
        Assert.Equal(["show", "update"], _teams.Calls.Select(c => c.Kind));
        Assert.Equal(2, _broken.Attempts); // tried once each: the failure is logged, not retried into duplicates
        Assert.False(await _harness.Published.Any<Fault<ApprovalRequested>>());
        Assert.False(await _harness.Published.Any<Fault<ApprovalResolved>>());
    }

    private sealed class Recording(string name) : IApprovalChannel
    {
        private readonly ConcurrentQueue<(string Kind, ApprovalView View)> _calls = new();

        public string Name => name;

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

    /// <summary>A channel whose platform is down: every call throws.</summary>
    private sealed class Failing : IApprovalChannel
    {
        private int _attempts;

        public string Name => "broken";

        public int Attempts => Volatile.Read(ref _attempts);

        public Task ShowAsync(ApprovalView approval, CancellationToken cancellationToken) => Fail();

        public Task UpdateAsync(ApprovalView approval, CancellationToken cancellationToken) => Fail();

        public Task ExecutedAsync(ApprovalView approval, CancellationToken cancellationToken) => Fail();

        private Task Fail()
        {
            Interlocked.Increment(ref _attempts);
            throw new HttpRequestException("platform unavailable");
        }
    }
}
