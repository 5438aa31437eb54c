using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>Every inbound token rule, each through the real POST /api/messages.</summary>
public sealed class TeamsTokenValidationTests : TeamsHostedTests
{
    private JsonObject ApproveClick() => TeamsActivities.Invoke(Connector.ServiceUrl, "approve", Host.AddPending().Id);

    private async Task AssertRejectedAsync(string? token, HttpStatusCode expected, JsonObject? activity = null, string? reason = null)
    {
        using var response = await Host.PostActivityAsync(activity ?? ApproveClick(), token);
        Assert.Equal(expected, response.StatusCode);
        Assert.Empty(Host.Decisions.Commands);
        Assert.Empty(Connector.Calls);
        Assert.Empty(Host.CardReferences.Settings);
        var rejected = Assert.Single(Host.Logs.Entries, e => e.EventName == "TeamsTokenRejected");
        Assert.Contains(((int)expected).ToString(System.Globalization.CultureInfo.InvariantCulture), rejected.Message, StringComparison.Ordinal);
        if (reason is not null)
        {
            Assert.Contains(reason, rejected.Message, StringComparison.Ordinal);
        }

        if (token is { Length: > 0 })
        {
            Assert.DoesNotContain(Host.Logs.Entries, e => e.Message.Contains(token, StringComparison.Ordinal));
            foreach (var part in token.Split('.').Where(p => p.Length > 8))
            {
                Assert.DoesNotContain(Host.Logs.Entries, e => e.Message.Contains(part, StringComparison.Ordinal));
            }
        }
    }

    [Fact]
    public async Task Valid_token_is_accepted_and_the_click_is_decided()
    {
        using var response = await Host.PostActivityAsync(ApproveClick(), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(Host.Decisions.Commands);
        Assert.DoesNotContain(Host.Logs.Entries, e => e.EventName == "TeamsTokenRejected");
    }

    [Fact]
    public async Task Token_expired_within_the_five_minute_skew_is_still_accepted()
    {
        var now = DateTimeOffset.UtcNow;
        var token = Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, now, notBefore: now.AddHours(-1), expires: now.AddMinutes(-3));

        using var response = await Host.PostActivityAsync(ApproveClick(), token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(Host.Decisions.Commands);
    }

    [Fact]
    public Task Missing_token_is_401() => AssertRejectedAsync(null, HttpStatusCode.Unauthorized, reason: "no bearer token");

    [Fact]
    public Task Garbage_token_is_401() => AssertRejectedAsync("not.a.jwt", HttpStatusCode.Unauthorized);

    [Fact]
    public Task Wrong_audience_is_401() =>
        AssertRejectedAsync(Auth.CreateToken("11111111-2222-3333-4444-555555555555", Connector.ServiceUrl), HttpStatusCode.Unauthorized, reason: "wrong audience");

    [Fact]
    public Task Wrong_issuer_is_401() =>
        AssertRejectedAsync(Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, issuer: "https://api.botframework.evil"), HttpStatusCode.Unauthorized, reason: "wrong issuer");

    [Fact]
    public Task Entra_issuer_of_another_tenant_is_401() =>
        AssertRejectedAsync(
            Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, issuer: "https://login.microsoftonline.com/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/v2.0"),
            HttpStatusCode.Unauthorized,
            reason: "wrong issuer");

    [Fact]
    public Task Entra_issuer_of_the_configured_tenant_signed_with_the_Bot_Framework_key_is_401() =>
        // The issuer picks the key set: the tenant's keys (TeamsEntraTokenValidationTests), never the Bot Framework's.
        AssertRejectedAsync(
            Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, issuer: $"https://sts.windows.net/{TeamsTestHost.TenantId}/"),
            HttpStatusCode.Unauthorized,
            reason: "unknown key id");

    [Fact]
    public Task Expired_token_is_401()
    {
        var now = DateTimeOffset.UtcNow;
        return AssertRejectedAsync(
            Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, now, notBefore: now.AddHours(-2), expires: now.AddMinutes(-10)),
            HttpStatusCode.Unauthorized,
            reason: "expired");
    }

    [Fact]
    public Task Token_not_yet_valid_is_401()
    {
        var now = DateTimeOffset.UtcNow;
        return AssertRejectedAsync(
            Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, now, notBefore: now.AddMinutes(10), expires: now.AddHours(1)),
            HttpStatusCode.Unauthorized,
            reason: "not valid yet");
    }

    [Fact]
    public async Task Unknown_kid_is_401()
    {
        using var stranger = FakeBotFrameworkAuth.CreateKey("never-published", "msteams");
        await AssertRejectedAsync(Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: stranger), HttpStatusCode.Unauthorized, reason: "unknown key id");
    }

    [Fact]
    public async Task Signature_by_another_key_under_a_published_kid_is_401()
    {
        using var forger = FakeBotFrameworkAuth.CreateKey("forger", "msteams");
        var token = Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: forger, kid: Auth.DefaultKey.Kid);
        await AssertRejectedAsync(token, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public Task Unsigned_alg_none_token_is_401() =>
        AssertRejectedAsync(Auth.CreateUnsignedToken(TeamsTestHost.AppId, Connector.ServiceUrl), HttpStatusCode.Unauthorized);

    [Fact]
    public Task Serviceurl_claim_that_differs_from_the_activity_is_403() =>
        AssertRejectedAsync(Auth.CreateToken(TeamsTestHost.AppId, "https://smba.trafficmanager.net/emea/"), HttpStatusCode.Forbidden, reason: "serviceurl");

    [Fact]
    public async Task Key_without_msteams_endorsement_is_403()
    {
        var webchatOnly = Auth.PublishKey("webchat-only", "webchat", "directline");
        await AssertRejectedAsync(Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: webchatOnly), HttpStatusCode.Forbidden, reason: "not endorsed");
    }

    [Fact]
    public async Task Body_is_not_read_before_the_token_is_checked()
    {
        using var content = new StringContent("{ this is not json", System.Text.Encoding.UTF8, "application/json");
        using var response = await Host.Client.PostAsync("api/messages", content);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "api/messages") { Content = new StringContent("{ this is not json") };
        request.Headers.Authorization = new("Bearer", Host.Token());
        using var signed = await Host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, signed.StatusCode);
        Assert.Empty(Host.Decisions.Commands);
    }
}

/// <summary>Key refresh: daily, and on an unknown kid at most once per five minutes.</summary>
public sealed class TeamsSigningKeyRefreshTests
{
    [Fact]
    public async Task A_rotated_key_is_picked_up_on_an_unknown_kid_but_at_most_every_five_minutes()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);

        using (var first = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        Assert.Equal(1, auth.JwksRequests);

        var rotated = auth.PublishKey("rotated", "msteams");
        time.Advance(TimeSpan.FromMinutes(1));
        var token = auth.CreateToken(TeamsTestHost.AppId, connector.ServiceUrl, time.GetUtcNow(), key: rotated);
        using (var tooSoon = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, tooSoon.StatusCode); // refreshed one minute ago: no new fetch yet
        }

        Assert.Equal(1, auth.JwksRequests);

        time.Advance(TimeSpan.FromMinutes(5));
        token = auth.CreateToken(TeamsTestHost.AppId, connector.ServiceUrl, time.GetUtcNow(), key: rotated);
        using (var later = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), token))
        {
            Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        }

        Assert.Equal(2, auth.JwksRequests);
    }

    [Fact]
    public async Task Keys_are_refetched_after_a_day()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);

        using (var first = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        time.Advance(TimeSpan.FromHours(23));
        using (var sameDay = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, sameDay.StatusCode);
        }

        Assert.Equal(1, auth.MetadataRequests);

        time.Advance(TimeSpan.FromHours(1));
        using (var nextDay = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, nextDay.StatusCode);
        }

        Assert.Equal(2, auth.MetadataRequests);
        Assert.Equal(2, auth.JwksRequests);
    }

    [Fact]
    public async Task Keys_that_cannot_be_read_at_all_refuse_every_token_without_hammering_the_endpoint_then_load_once_it_answers()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);
        auth.Unavailable = true;

        // No key was ever loaded: a valid token cannot be verified, so it is refused (not a 500, not let through).
        for (var i = 0; i < 3; i++)
        {
            using var refused = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token());
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        Assert.Equal(1, auth.MetadataRequests); // tried once, not once per request
        var failed = Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsKeysRefreshFailed");
        Assert.Contains("keeping 0 known keys", failed.Message, StringComparison.Ordinal);
        Assert.Empty(host.Decisions.Commands);

        // Still down at the next try, sooner than the five minutes a loaded set waits: refused again.
        time.Advance(ApprovalBot.Bot.Teams.SigningKeySet.RetryWithoutKeys);
        using (var stillDown = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, stillDown.StatusCode);
        }

        Assert.Equal(2, auth.MetadataRequests);

        // Back: the next try loads the keys and the same kind of token is accepted.
        auth.Unavailable = false;
        time.Advance(ApprovalBot.Bot.Teams.SigningKeySet.RetryWithoutKeys);
        using (var back = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        }

        Assert.Equal(3, auth.MetadataRequests);
        Assert.Equal(1, auth.JwksRequests);
        Assert.Equal(2, host.Logs.Entries.Count(e => e.EventName == "TeamsKeysRefreshFailed"));
    }

    [Fact]
    public async Task A_failed_refresh_of_loaded_keys_is_tried_again_only_after_five_minutes_and_then_picks_up_a_rotated_key()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);
        using (var first = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        // The daily refresh fails: the known key still verifies, for every request while the endpoint is down.
        auth.Unavailable = true;
        time.Advance(ApprovalBot.Bot.Teams.SigningKeySet.RefreshInterval);
        for (var i = 0; i < 3; i++)
        {
            using var duringOutage = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token());
            Assert.Equal(HttpStatusCode.OK, duringOutage.StatusCode);
        }

        // A rotated key cannot be fetched while the last try is under five minutes old: refused, nothing fetched.
        var rotated = auth.PublishKey("rotated-during-outage", "msteams");
        auth.Unavailable = false;
        time.Advance(ApprovalBot.Bot.Teams.SigningKeySet.MinimumRefreshInterval - TimeSpan.FromSeconds(1));
        using (var tooSoon = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), auth.CreateToken(TeamsTestHost.AppId, connector.ServiceUrl, time.GetUtcNow(), key: rotated)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, tooSoon.StatusCode);
        }

        Assert.Equal(2, auth.MetadataRequests); // the first load and the one failed daily refresh

        time.Advance(TimeSpan.FromSeconds(1));
        using (var later = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), auth.CreateToken(TeamsTestHost.AppId, connector.ServiceUrl, time.GetUtcNow(), key: rotated)))
        {
            Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        }

        Assert.Equal(3, auth.MetadataRequests);
        Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsKeysRefreshFailed");
    }

    [Fact]
    public async Task Teams_disabled_answers_404()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, configure: s => s["Enabled"] = "false");

        using var response = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, "policy status"), host.Token());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(host.Services.GetServices<ApprovalBot.Bot.Channels.IApprovalChannel>());
    }
}
