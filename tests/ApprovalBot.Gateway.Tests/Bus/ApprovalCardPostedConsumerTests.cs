using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Bus;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Tests.Parking;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using static ApprovalBot.Gateway.Tests.Parking.LifecycleHarness;

namespace ApprovalBot.Gateway.Tests.Bus;

/// <summary>A bot's report of a posted card becomes one audit row of its approval, however often it arrives.</summary>
public sealed class ApprovalCardPostedConsumerTests : IAsyncLifetime
{
    private readonly LifecycleHarness _h = new();
    private ServiceProvider _services = null!;
    private ITestHarness _bus = null!;

    public async Task InitializeAsync()
    {
        await _h.InitializeAsync();
        _services = new ServiceCollection()
            .AddSingleton(_h.Store)
            .AddSingleton(_h.Audit)
            .AddMassTransitTestHarness(x => x.AddConsumer<ApprovalCardPostedConsumer>())
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

    /// <summary>Publishes and waits (bounded) until the consumer has taken it.</summary>
    private async Task SendAsync(ApprovalCardPosted message)
    {
        var consumed = _bus.GetConsumerHarness<ApprovalCardPostedConsumer>().Consumed;
        var before = consumed.Select<ApprovalCardPosted>().Count();
        await _bus.Bus.Publish(message);
        for (var i = 0; i < 500 && consumed.Select<ApprovalCardPosted>().Count() == before; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(before + 1, consumed.Select<ApprovalCardPosted>().Count());
        Assert.DoesNotContain(_bus.Consumed.Select<ApprovalCardPosted>(), c => c.Exception is not null);
    }

    [Fact]
    public async Task Redelivered_or_repeated_reports_of_one_card_are_audited_once_and_another_card_is_its_own_row()
    {
        var call = _h.CallAsync(Rule());
        var id = await _h.WaitForRequestAsync();
        var posted = new ApprovalCardPosted(id, "slack", "C0APPROVALS|1700000001.000001", _h.Time.GetUtcNow(), "bot-1");

        await SendAsync(posted);
        await SendAsync(posted);
        await SendAsync(posted with { PostedAt = posted.PostedAt.AddSeconds(3), BotInstance = "bot-2" });
        await SendAsync(posted with { Channel = "teams", Reference = "19:abc@thread.tacv2|1700000001" });
        await SendAsync(new ApprovalCardPosted(Guid.NewGuid(), "slack", "C0APPROVALS|1700000009.000009", _h.Time.GetUtcNow()));

        var cards = (await _h.AuditAsync(id)).Where(a => a.Decision == "card_posted").ToList();
        Assert.Equal(2, cards.Count);
        var slack = Assert.Single(cards, c => c.Channel == "slack");
        Assert.Equal("C0APPROVALS|1700000001.000001", slack.Reference);
        Assert.Equal("agent-1", slack.Agent);
        Assert.Equal("agentwork_cancel_task", slack.Tool);
        Assert.Equal(posted.PostedAt, slack.At);
        Assert.Single(cards, c => c.Channel == "teams");
        // The unknown approval left no row anywhere.
        Assert.DoesNotContain((await _h.Store.ReadAuditAsync(null, 1000, CancellationToken.None)), a => a.Reference == "C0APPROVALS|1700000009.000009");

        await _h.DecideAsync(id, Alice, approve: false, "no");
        await call;
    }
}
