using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Bus;
using ApprovalBot.Gateway.Tests.Parking;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Bus;

/// <summary>
/// The gateway's decision consumer on MassTransit's in-memory harness, registered as the gateway
/// registers it, over the real lifecycle: a redelivered decision changes nothing and is answered
/// with the current state; a decision sent without a reply address is applied all the same.
/// </summary>
public sealed class ApprovalDecisionConsumerTests : IAsyncLifetime
{
    private readonly LifecycleHarness _h = new();
    private ServiceProvider _services = null!;
    private ITestHarness _bus = null!;

    public async Task InitializeAsync()
    {
        await _h.InitializeAsync();
        _services = new ServiceCollection()
            .AddSingleton(_h.Lifecycle)
            .AddMassTransitTestHarness(x => x.AddGatewayConsumers())
            .BuildServiceProvider(true);
        _bus = _services.GetRequiredService<ITestHarness>();
        await _bus.Start();
    }

    public async Task DisposeAsync()
    {
        await _bus.Stop();
        await _services.DisposeAsync();
        await _h.DisposeAsync();
    }

    private async Task<ApprovalDecisionOutcome> SendAsync(ApprovalDecision decision)
    {
        var client = _bus.GetRequestClient<ApprovalDecision>();
        return (await client.GetResponse<ApprovalDecisionOutcome>(decision)).Message;
    }

    private ApprovalDecision Decision(Guid id, Approver who, bool approve) => new(id, Guid.NewGuid(), approve, who, null, _h.Time.GetUtcNow(), "slack");

    [Fact]
    public async Task A_redelivered_decision_is_answered_with_the_current_state_and_changes_nothing()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(wait: ApprovalWait.Retry)));
        var decision = Decision(id, Alice, approve: true);

        var first = await SendAsync(decision);
        var redelivered = await SendAsync(decision);

        Assert.Equal(new ApprovalDecisionOutcome(id, true, "Approved", "Approved by Alice."), first);
        Assert.Equal(new ApprovalDecisionOutcome(id, false, "Approved", "This decision was already received."), redelivered);
        Assert.Single(_h.Events.Resolved);
        Assert.Single(await _h.AuditAsync(id), a => a.Decision == "approved");
    }

    [Fact]
    public async Task A_redelivered_vote_does_not_count_twice_toward_a_quorum()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(required: 2, wait: ApprovalWait.Retry)));
        var vote = Decision(id, Alice, approve: true);

        Assert.True((await SendAsync(vote)).Accepted);
        Assert.False((await SendAsync(vote)).Accepted);

        var record = (await _h.Store.GetApprovalAsync(id, default))!;
        Assert.Equal(ApprovalStatus.Pending, record.Status);
        Assert.Equal(["slack:UALICE"], record.ApprovedBy);
        Assert.Single(_h.Events.Voted);
        Assert.Equal("Approved", (await SendAsync(Decision(id, Bob, approve: true))).Status);
    }

    [Fact]
    public async Task A_decision_published_without_a_reply_address_is_applied_without_a_fault()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(wait: ApprovalWait.Retry)));

        await _bus.Bus.Publish(Decision(id, Bob, approve: false));

        var consumer = _bus.GetConsumerHarness<ApprovalDecisionConsumer>();
        Assert.True(await consumer.Consumed.Any<ApprovalDecision>(m => m.Context.Message.ApprovalId == id));
        Assert.False(await _bus.Published.Any<Fault<ApprovalDecision>>());
        await Eventually.TrueAsync(async () => (await _h.Store.GetApprovalAsync(id, default))!.Status == ApprovalStatus.Denied, "the denial to be stored");
    }

    [Fact]
    public async Task A_decision_for_an_approval_of_another_gateway_is_answered_not_faulted()
    {
        var unknown = Guid.NewGuid();

        var outcome = await SendAsync(Decision(unknown, Alice, approve: true));

        Assert.Equal(new ApprovalDecisionOutcome(unknown, false, "Unknown", $"No approval {unknown} on this gateway."), outcome);
        Assert.False(await _bus.Published.Any<Fault<ApprovalDecision>>());
    }

    [Fact]
    public async Task Two_people_deciding_at_once_over_the_bus_get_one_winner_and_one_named_loser()
    {
        var id = ApprovalIdOf(await _h.CallAsync(Rule(wait: ApprovalWait.Retry)));

        var outcomes = await Task.WhenAll(SendAsync(Decision(id, Alice, approve: true)), SendAsync(Decision(id, Bob, approve: false)));

        var winner = Assert.Single(outcomes, o => o.Accepted);
        var loser = Assert.Single(outcomes, o => !o.Accepted);
        Assert.Equal(winner.Status, loser.Status);
        Assert.Equal(winner.Status == "Approved" ? "Already approved by Alice." : "Already denied by Bob.", loser.Message);
        Assert.Single(_h.Events.Resolved);
    }
}
