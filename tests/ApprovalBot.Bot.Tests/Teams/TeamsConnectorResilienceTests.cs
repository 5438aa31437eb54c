using System.Net;
using ApprovalBot.Bot.Teams;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>The Connector client's retries and tokens: Retry-After and its cap, retries running out, the token renewed.</summary>
public sealed class TeamsConnectorResilienceTests : TeamsHostedTests
{
    private readonly TimerClock _time = new(DateTimeOffset.UtcNow);

    protected override TimeProvider Time => _time;

    private static HttpResponseMessage TooManyRequests(Action<System.Net.Http.Headers.HttpResponseHeaders> header)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        header(response.Headers);
        return response;
    }

    [Fact]
    public void Retry_After_is_honoured_up_to_its_cap_of_30_s()
    {
        var now = new DateTimeOffset(2026, 3, 10, 10, 0, 0, TimeSpan.Zero);
        TimeSpan? For(Action<System.Net.Http.Headers.HttpResponseHeaders> header)
        {
            using var response = TooManyRequests(header);
            return TeamsRegistration.RetryAfter(response, now);
        }

        Assert.Equal(TimeSpan.FromSeconds(30), TeamsRegistration.MaxRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(7), For(h => h.RetryAfter = new(TimeSpan.FromSeconds(7))));
        Assert.Equal(TimeSpan.FromSeconds(30), For(h => h.RetryAfter = new(TimeSpan.FromHours(1))));
        Assert.Equal(TimeSpan.FromSeconds(20), For(h => h.RetryAfter = new(now.AddSeconds(20))));
        Assert.Equal(TimeSpan.FromSeconds(30), For(h => h.RetryAfter = new(now.AddMinutes(5))));
        Assert.Equal(TimeSpan.Zero, For(h => h.RetryAfter = new(now.AddSeconds(-5))));
        Assert.Null(For(_ => { })); // no header: exponential back-off
    }

    [Fact]
    public async Task A_post_told_to_wait_an_hour_is_retried_after_the_cap()
    {
        var cap = TeamsRegistration.MaxRetryDelay;
        // One more timer due in 30 s than now: the delay. (The per-attempt timeout of 30 s is created infinite, then changed.)
        var expected = _time.Timers.Count(t => t == cap) + 1;
        Connector.FailNext(429, retryAfter: TimeSpan.FromHours(1));
        var view = Host.AddPending();

        var show = Host.Channel.ShowAsync(view, CancellationToken.None);
        // The Connector asked for an hour; the client registers a delay of 30 s (the cap), not more. Waiting for
        // that timer, then moving the clock by exactly that much, leaves nothing to a sleep between clock steps.
        try
        {
            await _time.WaitForTimersAsync(cap, expected);
            Assert.DoesNotContain(TimeSpan.FromHours(1), _time.Timers);
            Assert.DoesNotContain(Connector.Calls, c => c.Kind == "create" && c.Succeeded);
            _time.Advance(cap);
            await show.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            _time.Advance(TimeSpan.FromHours(3)); // a failing run does not leave the client waiting forever
        }

        Assert.Equal(TimeSpan.FromSeconds(30), cap);
        Assert.Equal([429, 201], Connector.Calls.Where(c => c.Kind == "create").Select(c => c.StatusCode));
        Assert.Single(await Host.CardReferences.GetAsync(view.Id, "teams", CancellationToken.None));
        var retry = Assert.Single(Host.Logs.Entries, e => e.EventName == "TeamsConnectorRetry");
        Assert.Contains("00:00:30", retry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_retries_run_out_the_card_is_given_up_logged_and_the_next_one_still_posts()
    {
        Connector.FailNext(429, times: 1 + TeamsRegistration.MaxRetryAttempts, retryAfter: TimeSpan.Zero);
        var lost = Host.AddPending();

        await Host.Channel.ShowAsync(lost, CancellationToken.None);

        Assert.Equal(Enumerable.Repeat(429, 1 + TeamsRegistration.MaxRetryAttempts), Connector.Calls.Where(c => c.Kind == "create").Select(c => c.StatusCode));
        Assert.Empty(await Host.CardReferences.GetAsync(lost.Id, "teams", CancellationToken.None));
        Assert.Equal(TeamsRegistration.MaxRetryAttempts, Host.Logs.Entries.Count(e => e.EventName == "TeamsConnectorRetry"));
        Assert.Contains(Host.Logs.Entries, e => e.EventName == "TeamsPostFailed");

        var next = Host.AddPending();
        await Host.Channel.ShowAsync(next, CancellationToken.None);
        Assert.Single(await Host.CardReferences.GetAsync(next.Id, "teams", CancellationToken.None));
    }

    [Fact]
    public async Task A_token_about_to_expire_is_renewed_before_the_next_call()
    {
        // Entra hands out a token with two minutes left: MSAL renews it for the next call rather than use it.
        Connector.TokenLifetime = TimeSpan.FromMinutes(2);
        Connector.EarlierTokensExpire = true;

        var first = Host.AddPending();
        await Host.Channel.ShowAsync(first, CancellationToken.None);
        var second = Host.AddPending();
        await Host.Channel.ShowAsync(second, CancellationToken.None);

        Assert.Equal(2, Connector.TokenRequests.Count(t => t.Granted));
        var creates = Connector.Calls.Where(c => c.Kind == "create").ToList();
        Assert.Equal([201, 201], creates.Select(c => c.StatusCode));
        Assert.NotEqual(creates[0].Authorization, creates[1].Authorization);
        Assert.Single(await Host.CardReferences.GetAsync(second.Id, "teams", CancellationToken.None));
    }
}
