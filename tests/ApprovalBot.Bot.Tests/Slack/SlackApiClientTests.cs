using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using Microsoft.Extensions.DependencyInjection;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>Rate limits and back-off, with the clock under the test's control.</summary>
public sealed class SlackApiClientTests : SlackHostTestBase
{
    private readonly TimerClock _time = new(DateTimeOffset.UtcNow);
    protected override TimeProvider? Time => _time;

    [Fact]
    public async Task Card_is_posted_only_after_Retry_After_has_passed()
    {
        Slack.RateLimitNext("chat.postMessage", retryAfterSeconds: 7);
        var approval = TestApprovals.Pending();

        var show = Bot.Channel.ShowAsync(approval, CancellationToken.None);
        await Slack.WaitForCallAsync("chat.postMessage");
        var waited = await AdvanceUntilAsync(() => Slack.CallsTo("chat.postMessage").Count >= 2);
        await show;

        Assert.True(waited >= TimeSpan.FromSeconds(7), $"retried after {waited}");
        var calls = Slack.CallsTo("chat.postMessage");
        Assert.Equal([429, 200], calls.Select(c => c.StatusCode));
        Assert.True(calls[1].ReceivedAt - calls[0].ReceivedAt >= TimeSpan.FromSeconds(7));
        Assert.Equal(calls[0].Body, calls[1].Body);
        Assert.Single(await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None));
    }

    [Fact]
    public async Task A_huge_Retry_After_is_capped()
    {
        Slack.RateLimitNext("chat.update", retryAfterSeconds: 3600);
        Slack.RememberMessage("C1", "1.2");
        var client = Bot.Services.GetRequiredService<SlackApiClient>();
        var cap = SlackApiClient.MaxRetryAfter;

        // One more timer due in 30 s than now: the delay. (The per-attempt timeout of 30 s is created infinite, then changed.)
        var expected = _time.Timers.Count(t => t == cap) + 1;

        var update = client.UpdateMessageAsync(new SlackMessageRef("C1", "1.2"), "x", new JsonArray(), CancellationToken.None);
        // Slack asked for an hour; the client registers a delay of 30 s (the cap), not more. Waiting for that
        // timer, then moving the clock by exactly that much, leaves nothing to a sleep between clock steps.
        try
        {
            await _time.WaitForTimersAsync(cap, expected);
            Assert.DoesNotContain(TimeSpan.FromHours(1), _time.Timers);
            _time.Advance(cap);
            await update.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            _time.Advance(TimeSpan.FromHours(3)); // a failing run does not leave the client waiting forever
        }

        Assert.Equal(TimeSpan.FromSeconds(30), cap);
        var calls = Slack.CallsTo("chat.update");
        Assert.Equal([429, 200], calls.Select(c => c.StatusCode));
        Assert.Equal(cap, calls[1].ReceivedAt - calls[0].ReceivedAt);
    }

    [Fact]
    public async Task Rate_limited_more_than_three_times_throws_ratelimited()
    {
        Slack.RateLimitNext("chat.update", retryAfterSeconds: 0, times: 10);
        var client = Bot.Services.GetRequiredService<SlackApiClient>();

        var error = await Assert.ThrowsAsync<SlackApiException>(() => client.UpdateMessageAsync(new SlackMessageRef("C1", "1.2"), "x", new JsonArray(), CancellationToken.None));

        Assert.Equal("ratelimited", error.Error);
        Assert.True(error.IsTransient);
        Assert.Equal(1 + SlackApiClient.MaxRateLimitRetries, Slack.CallsTo("chat.update").Count);
    }

    [Fact]
    public async Task Transient_ok_false_is_retried_with_back_off()
    {
        Slack.FailNext("chat.postMessage", "internal_error");
        var approval = TestApprovals.Pending();

        var show = Bot.Channel.ShowAsync(approval, CancellationToken.None);
        await Slack.WaitForCallAsync("chat.postMessage");
        var waited = await AdvanceUntilAsync(() => Slack.CallsTo("chat.postMessage").Count >= 2);
        await show;

        Assert.True(waited >= SlackApprovalChannel.RetryDelays[0]);
        Assert.Equal(["internal_error", null], Slack.CallsTo("chat.postMessage").Select(c => c.Error));
        Assert.Single(await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None));
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackCardPostRetry");
    }

    [Fact]
    public async Task Posting_gives_up_after_a_few_attempts_without_throwing()
    {
        Slack.FailNext("chat.postMessage", "service_unavailable", times: 10);
        var approval = TestApprovals.Pending();

        var show = Bot.Channel.ShowAsync(approval, CancellationToken.None);
        await Slack.WaitForCallAsync("chat.postMessage");
        await AdvanceUntilAsync(() => show.IsCompleted, step: TimeSpan.FromSeconds(5));
        await show;

        Assert.Equal(1 + SlackApprovalChannel.RetryDelays.Count, Slack.CallsTo("chat.postMessage").Count);
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackCardPostFailed" && l.Message.Contains("service_unavailable", StringComparison.Ordinal));
        Assert.Empty(await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None));
    }

    [Fact]
    public async Task Invalid_auth_is_not_retried()
    {
        Slack.BotToken = "xoxb-some-other-token";
        await Bot.Channel.ShowAsync(TestApprovals.Pending(), CancellationToken.None);
        var call = Assert.Single(Slack.CallsTo("chat.postMessage"));
        Assert.Equal("invalid_auth", call.Error);
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackApiError" && l.Message.Contains("invalid_auth", StringComparison.Ordinal));
        Assert.DoesNotContain(Bot.Logs.Lines, l => l.Message.Contains(SlackBotHost.BotToken, StringComparison.Ordinal));
    }

    [Fact]
    public void Message_references_round_trip()
    {
        var reference = new SlackMessageRef("C0APPROVALS", "1700000001.000200");
        Assert.Equal("C0APPROVALS|1700000001.000200", reference.ToString());
        Assert.Equal(reference, SlackMessageRef.Parse(reference.ToString()));
        Assert.Null(SlackMessageRef.Parse("nonsense"));
        Assert.Null(SlackMessageRef.Parse("|1.2"));
    }

    /// <summary>
    /// Moves the fake clock forward one step at a time until <paramref name="done"/>; returns how far it moved.
    /// A step taken before the code under test started waiting only makes the result larger, so
    /// "waited at least N" is a safe conclusion.
    /// </summary>
    private async Task<TimeSpan> AdvanceUntilAsync(Func<bool> done, TimeSpan? step = null)
    {
        var advanced = TimeSpan.Zero;
        var by = step ?? TimeSpan.FromSeconds(1);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, $"gave up after advancing {advanced}");
            _time.Advance(by);
            advanced += by;
            var settle = DateTime.UtcNow.AddMilliseconds(150);
            while (!done() && DateTime.UtcNow < settle)
            {
                await Task.Delay(10);
            }
        }

        return advanced;
    }
}
