using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>
/// Tokens as single-tenant bots receive them — issued by the bot's own Entra tenant (v1
/// <c>https://sts.windows.net/{tid}/</c>, v2 <c>https://login.microsoftonline.com/{tid}/v2.0</c>),
/// signed with the tenant's keys — beside the Bot Framework's, each issuer with its own key set,
/// every case through the real POST /api/messages.
/// </summary>
public sealed class TeamsEntraTokenValidationTests : TeamsHostedTests
{
    private const string OtherTenantId = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    private FakeEntraTenant Tenant => Host.Tenant;

    private JsonObject ApproveClick() => TeamsActivities.Invoke(Connector.ServiceUrl, "approve", Host.AddPending().Id);

    private async Task AssertAcceptedAsync(string token)
    {
        using var response = await Host.PostActivityAsync(ApproveClick(), token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decision = Assert.Single(Host.Decisions.Commands);
        Assert.NotNull(decision);
        Assert.DoesNotContain(Host.Logs.Entries, e => e.EventName == "TeamsTokenRejected");
    }

    private async Task AssertRejectedAsync(string token, HttpStatusCode expected, string reason)
    {
        using var response = await Host.PostActivityAsync(ApproveClick(), token);

        Assert.Equal(expected, response.StatusCode);
        Assert.Empty(Host.Decisions.Commands);
        Assert.Empty(Connector.Calls);
        var rejected = Assert.Single(Host.Logs.Entries, e => e.EventName == "TeamsTokenRejected");
        Assert.Contains(((int)expected).ToString(CultureInfo.InvariantCulture), rejected.Message, StringComparison.Ordinal);
        Assert.Contains(reason, rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task V1_token_of_the_bot_tenant_is_accepted()
    {
        var token = Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, EntraTokenVersion.V1);
        Assert.Contains(Tenant.V1Issuer, DecodePayload(token), StringComparison.Ordinal);

        await AssertAcceptedAsync(token);

        Assert.Equal(1, Tenant.JwksRequests);
        Assert.Equal(0, Auth.JwksRequests); // the issuer chose the tenant's keys; the Bot Framework's were never needed
    }

    [Fact]
    public async Task V2_token_of_the_bot_tenant_is_accepted()
    {
        var token = Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, EntraTokenVersion.V2);
        Assert.Contains(Tenant.V2Issuer, DecodePayload(token), StringComparison.Ordinal);

        await AssertAcceptedAsync(token);
    }

    [Fact]
    public async Task V1_and_v2_tokens_are_verified_with_the_same_tenant_key_set()
    {
        using (var v1 = await Host.PostActivityAsync(TeamsActivities.Message(Connector.ServiceUrl, ""), Host.EntraToken(EntraTokenVersion.V1)))
        {
            Assert.Equal(HttpStatusCode.OK, v1.StatusCode);
        }

        using (var v2 = await Host.PostActivityAsync(TeamsActivities.Message(Connector.ServiceUrl, ""), Host.EntraToken(EntraTokenVersion.V2)))
        {
            Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
        }

        Assert.Equal(1, Tenant.MetadataRequests);
        Assert.Equal(1, Tenant.JwksRequests);
    }

    [Theory]
    [InlineData("api://{0}")]
    [InlineData("api://botid-{0}")]
    public Task Application_id_uri_audiences_of_the_bot_are_accepted(string format) =>
        AssertAcceptedAsync(Tenant.CreateToken(string.Format(CultureInfo.InvariantCulture, format, TeamsTestHost.AppId), Connector.ServiceUrl));

    [Fact]
    public async Task Token_of_another_tenant_is_refused_without_fetching_anyones_keys()
    {
        var other = Auth.Tenant(OtherTenantId);

        await AssertRejectedAsync(other.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, EntraTokenVersion.V1), HttpStatusCode.Unauthorized, "wrong issuer");

        Assert.Equal(0, other.MetadataRequests);
        Assert.Equal(0, Tenant.MetadataRequests);
        Assert.Equal(0, Auth.MetadataRequests);
    }

    [Fact]
    public Task V2_token_of_another_tenant_is_refused() =>
        AssertRejectedAsync(Auth.Tenant(OtherTenantId).CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, EntraTokenVersion.V2), HttpStatusCode.Unauthorized, "wrong issuer");

    [Fact]
    public Task Bot_tenant_issuer_signed_with_another_tenants_key_is_refused()
    {
        var other = Auth.Tenant(OtherTenantId);
        return AssertRejectedAsync(Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: other.DefaultKey), HttpStatusCode.Unauthorized, "unknown key id (Entra tenant keys)");
    }

    [Fact]
    public Task Entra_issued_token_signed_with_a_Bot_Framework_key_is_refused() =>
        AssertRejectedAsync(Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: Auth.DefaultKey), HttpStatusCode.Unauthorized, "unknown key id (Entra tenant keys)");

    [Fact]
    public Task Bot_Framework_token_signed_with_an_Entra_key_is_refused() =>
        AssertRejectedAsync(Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: Tenant.DefaultKey), HttpStatusCode.Unauthorized, "unknown key id (Bot Framework keys)");

    [Fact]
    public async Task Entra_issued_token_signed_by_a_Bot_Framework_key_whose_kid_the_tenant_also_publishes_is_refused()
    {
        // Both sets publish a key under the same kid: the issuer must decide which one is used.
        var botFrameworkKey = Auth.PublishKey("shared-kid", "msteams");
        Tenant.PublishKey("shared-kid");

        await AssertRejectedAsync(Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: botFrameworkKey), HttpStatusCode.Unauthorized, "signature");
    }

    [Fact]
    public async Task Bot_Framework_token_signed_by_an_Entra_key_whose_kid_the_Bot_Framework_also_publishes_is_refused()
    {
        Auth.PublishKey("shared-kid", "msteams");
        var tenantKey = Tenant.PublishKey("shared-kid");

        await AssertRejectedAsync(Auth.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: tenantKey), HttpStatusCode.Unauthorized, "signature");
    }

    [Fact]
    public Task Wrong_audience_is_refused() =>
        AssertRejectedAsync(Tenant.CreateToken("11111111-2222-3333-4444-555555555555", Connector.ServiceUrl), HttpStatusCode.Unauthorized, "wrong audience");

    [Fact]
    public Task Bot_Framework_api_audience_is_refused() =>
        // What the bot itself (or any app of the tenant) gets to call the Connector; never a token for the bot.
        AssertRejectedAsync(Tenant.CreateToken("https://api.botframework.com", Connector.ServiceUrl), HttpStatusCode.Unauthorized, "wrong audience");

    [Fact]
    public Task Expired_token_is_refused()
    {
        var now = DateTimeOffset.UtcNow;
        return AssertRejectedAsync(
            Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, now: now, notBefore: now.AddHours(-2), expires: now.AddMinutes(-10)),
            HttpStatusCode.Unauthorized,
            "expired");
    }

    [Fact]
    public async Task Token_expired_within_the_five_minute_skew_is_accepted()
    {
        var now = DateTimeOffset.UtcNow;
        await AssertAcceptedAsync(Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, now: now, notBefore: now.AddHours(-1), expires: now.AddMinutes(-3)));
    }

    [Fact]
    public Task Token_not_yet_valid_is_refused()
    {
        var now = DateTimeOffset.UtcNow;
        return AssertRejectedAsync(
            Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, now: now, notBefore: now.AddMinutes(10), expires: now.AddHours(1)),
            HttpStatusCode.Unauthorized,
            "not valid yet");
    }

    [Fact]
    public async Task Unknown_kid_is_refused()
    {
        using var stranger = FakeBotFrameworkAuth.CreateKey("never-published");
        await AssertRejectedAsync(Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: stranger), HttpStatusCode.Unauthorized, "unknown key id");
    }

    [Fact]
    public async Task Signature_by_another_key_under_the_tenants_kid_is_refused()
    {
        using var forger = FakeBotFrameworkAuth.CreateKey("forger");
        await AssertRejectedAsync(Tenant.CreateToken(TeamsTestHost.AppId, Connector.ServiceUrl, key: forger, kid: Tenant.DefaultKey.Kid), HttpStatusCode.Unauthorized, "signature");
    }

    [Fact]
    public Task Serviceurl_claim_that_differs_from_the_activity_is_403() =>
        AssertRejectedAsync(Tenant.CreateToken(TeamsTestHost.AppId, "https://smba.trafficmanager.net/emea/"), HttpStatusCode.Forbidden, "serviceurl");

    [Fact]
    public Task Token_without_serviceurl_claim_is_403() =>
        // Any app of the tenant can get a token for the bot's app id; only the Bot Service's carries serviceurl.
        AssertRejectedAsync(Tenant.CreateToken(TeamsTestHost.AppId, serviceUrl: null), HttpStatusCode.Forbidden, "no serviceurl claim");

    private static string DecodePayload(string token)
    {
        var part = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part = part.PadRight(part.Length + ((4 - (part.Length % 4)) % 4), '=');
        return System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(part));
    }
}

/// <summary>Both key sets are refreshed on their own: daily, on an unknown kid (at most every five minutes), and a failed refresh keeps the last good set.</summary>
public sealed class TeamsEntraSigningKeyRefreshTests
{
    [Fact]
    public async Task A_rotated_Entra_key_is_picked_up_on_an_unknown_kid_but_at_most_every_five_minutes()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);

        using (var first = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.EntraToken()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        Assert.Equal(1, host.Tenant.JwksRequests);

        // Entra rotates: the new key is published and the old one withdrawn.
        var rotated = host.Tenant.PublishKey("entra-rotated");
        host.Tenant.Unpublish(host.Tenant.DefaultKey.Kid);
        time.Advance(TimeSpan.FromMinutes(1));
        var token = host.Tenant.CreateToken(TeamsTestHost.AppId, connector.ServiceUrl, now: time.GetUtcNow(), key: rotated);
        using (var tooSoon = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, tooSoon.StatusCode); // refreshed a minute ago: no new fetch yet
        }

        Assert.Equal(1, host.Tenant.JwksRequests);

        time.Advance(TimeSpan.FromMinutes(5));
        token = host.Tenant.CreateToken(TeamsTestHost.AppId, connector.ServiceUrl, now: time.GetUtcNow(), key: rotated);
        using (var later = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), token))
        {
            Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        }

        Assert.Equal(2, host.Tenant.JwksRequests);
        Assert.Equal(0, auth.JwksRequests); // the Bot Framework's set was not touched by the tenant's rotation

        // The withdrawn key no longer validates anything.
        using var old = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""),
            host.Tenant.CreateToken(TeamsTestHost.AppId, connector.ServiceUrl, now: time.GetUtcNow()));
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
    }

    [Fact]
    public async Task Entra_keys_are_refetched_after_a_day()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);

        using (var first = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.EntraToken(EntraTokenVersion.V1)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        time.Advance(TimeSpan.FromHours(23));
        using (var sameDay = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.EntraToken(EntraTokenVersion.V1)))
        {
            Assert.Equal(HttpStatusCode.OK, sameDay.StatusCode);
        }

        Assert.Equal(1, host.Tenant.MetadataRequests);

        time.Advance(TimeSpan.FromHours(1));
        using (var nextDay = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.EntraToken(EntraTokenVersion.V1)))
        {
            Assert.Equal(HttpStatusCode.OK, nextDay.StatusCode);
        }

        Assert.Equal(2, host.Tenant.MetadataRequests);
        Assert.Equal(2, host.Tenant.JwksRequests);
    }

    [Fact]
    public async Task A_failed_Entra_refresh_keeps_the_last_good_keys()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);

        using (var first = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.EntraToken()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        host.Tenant.Unavailable = true;
        time.Advance(TimeSpan.FromHours(25));
        using (var duringOutage = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.EntraToken()))
        {
            Assert.Equal(HttpStatusCode.OK, duringOutage.StatusCode);
        }

        Assert.Equal(2, host.Tenant.MetadataRequests); // the daily refresh was tried …
        var failed = Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsKeysRefreshFailed");
        Assert.Contains("Entra tenant", failed.Message, StringComparison.Ordinal); // … failed, and said which set and that it kept the old keys
        Assert.Contains("keeping 1 known keys", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_Bot_Framework_refresh_keeps_the_last_good_keys()
    {
        await using var auth = await FakeBotFrameworkAuth.StartAsync();
        await using var connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await TeamsTestHost.StartAsync(auth, connector, time);

        using (var first = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        auth.Unavailable = true;
        time.Advance(TimeSpan.FromHours(25));
        using (var duringOutage = await host.PostActivityAsync(TeamsActivities.Message(connector.ServiceUrl, ""), host.Token()))
        {
            Assert.Equal(HttpStatusCode.OK, duringOutage.StatusCode);
        }

        Assert.Equal(2, auth.MetadataRequests);
        var failed = Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsKeysRefreshFailed");
        Assert.Contains("Bot Framework", failed.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.Tenant.MetadataRequests);
    }
}
