using System.Net;
using System.Text;
using ApprovalBot.Bot.Slack;
using Microsoft.Extensions.DependencyInjection;

namespace ApprovalBot.Bot.Tests.Slack;

public sealed class SlackSignatureTests
{
    private const string Secret = "8f742231b10e8888abcd99yyyzzz85a5";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_531_420_618);

    private static SlackSignatureResult Verify(byte[] body, long timestamp, string? signature, string secret = Secret) =>
        SlackSignature.Verify(secret, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), signature, body, Now);

    [Fact]
    public void Slack_documentation_example_verifies()
    {
        // The worked example from Slack's "Verifying requests from Slack" page.
        var body = Encoding.UTF8.GetBytes("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c");
        Assert.Equal(SlackSignatureResult.Valid, Verify(body, 1_531_420_618, "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"));
    }

    [Fact]
    public void Valid_signature_verifies()
    {
        var body = Encoding.UTF8.GetBytes("payload=%7B%22type%22%3A%22block_actions%22%7D");
        Assert.Equal(SlackSignatureResult.Valid, Verify(body, Now.ToUnixTimeSeconds(), SlackTestRequests.Sign(Secret, Now.ToUnixTimeSeconds(), body)));
    }

    [Fact]
    public void Wrong_secret_is_rejected()
    {
        var body = Encoding.UTF8.GetBytes("payload=%7B%7D");
        var ts = Now.ToUnixTimeSeconds();
        Assert.Equal(SlackSignatureResult.Mismatch, Verify(body, ts, SlackTestRequests.Sign("another-secret", ts, body)));
    }

    [Fact]
    public void Tampered_body_is_rejected()
    {
        var body = Encoding.UTF8.GetBytes("payload=%7B%22approve%22%3Afalse%7D");
        var ts = Now.ToUnixTimeSeconds();
        var signature = SlackTestRequests.Sign(Secret, ts, body);
        var tampered = Encoding.UTF8.GetBytes("payload=%7B%22approve%22%3Atrue%7D");
        Assert.Equal(SlackSignatureResult.Mismatch, Verify(tampered, ts, signature));
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(-3600)]
    [InlineData(301)]
    [InlineData(3600)]
    public void Timestamps_outside_five_minutes_are_rejected_even_when_correctly_signed(int offsetSeconds)
    {
        var body = Encoding.UTF8.GetBytes("payload=%7B%7D");
        var ts = Now.ToUnixTimeSeconds() + offsetSeconds;
        Assert.Equal(SlackSignatureResult.OutsideReplayWindow, Verify(body, ts, SlackTestRequests.Sign(Secret, ts, body)));
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(300)]
    public void Timestamps_at_the_edge_of_the_window_are_accepted(int offsetSeconds)
    {
        var body = Encoding.UTF8.GetBytes("payload=%7B%7D");
        var ts = Now.ToUnixTimeSeconds() + offsetSeconds;
        Assert.Equal(SlackSignatureResult.Valid, Verify(body, ts, SlackTestRequests.Sign(Secret, ts, body)));
    }

    [Fact]
    public void Missing_headers_are_rejected()
    {
        var body = Encoding.UTF8.GetBytes("payload=%7B%7D");
        var ts = Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(SlackSignatureResult.MissingHeaders, SlackSignature.Verify(Secret, null, SlackTestRequests.Sign(Secret, Now.ToUnixTimeSeconds(), body), body, Now));
        Assert.Equal(SlackSignatureResult.MissingHeaders, SlackSignature.Verify(Secret, ts, null, body, Now));
        Assert.Equal(SlackSignatureResult.MissingHeaders, SlackSignature.Verify(Secret, "", "", body, Now));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1e9")]
    [InlineData("-5")]
    [InlineData("99999999999999999999")]
    public void Malformed_timestamps_are_rejected(string timestamp)
    {
        var body = Encoding.UTF8.GetBytes("x");
        Assert.Equal(SlackSignatureResult.MalformedTimestamp, SlackSignature.Verify(Secret, timestamp, "v0=" + new string('0', 64), body, Now));
    }

    [Theory]
    [InlineData("v1=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("v0=abc")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    public void Malformed_signatures_are_rejected(string signature)
    {
        var body = Encoding.UTF8.GetBytes("x");
        Assert.Equal(SlackSignatureResult.MalformedSignature, Verify(body, Now.ToUnixTimeSeconds(), signature));
    }

    [Fact]
    public void No_configured_secret_rejects_everything()
    {
        var body = Encoding.UTF8.GetBytes("x");
        var ts = Now.ToUnixTimeSeconds();
        Assert.Equal(SlackSignatureResult.NoSigningSecret, Verify(body, ts, SlackTestRequests.Sign("", ts, body), secret: ""));
    }

    [Fact]
    public void Body_with_star_plus_and_unicode_verifies_over_the_raw_bytes()
    {
        // '*' is left as is and ' ' becomes '+' by Slack's encoder; a re-encoded body would differ.
        var raw = "payload=" + "{\"text\":\"*bold* a+b=c ünïcødé ✓ 日本 🚀\"}".Replace("\"", "%22", StringComparison.Ordinal).Replace(" ", "+", StringComparison.Ordinal);
        var body = Encoding.UTF8.GetBytes(raw);
        var ts = Now.ToUnixTimeSeconds();
        var signature = SlackTestRequests.Sign(Secret, ts, body);
        Assert.Equal(SlackSignatureResult.Valid, Verify(body, ts, signature));
        Assert.Equal(signature, SlackSignature.Compute(Secret, ts.ToString(System.Globalization.CultureInfo.InvariantCulture), body));

        // The same text encoded differently (what a parse-and-re-encode would produce) does not verify.
        var reencoded = Encoding.UTF8.GetBytes("payload=" + Uri.EscapeDataString("{\"text\":\"*bold* a+b=c ünïcødé ✓ 日本 🚀\"}"));
        Assert.Equal(SlackSignatureResult.Mismatch, Verify(reencoded, ts, signature));
    }

    [Fact]
    public void Uppercase_hex_signature_is_accepted()
    {
        var body = Encoding.UTF8.GetBytes("x");
        var ts = Now.ToUnixTimeSeconds();
        var signature = SlackTestRequests.Sign(Secret, ts, body);
        Assert.Equal(SlackSignatureResult.Valid, Verify(body, ts, "v0=" + signature[3..].ToUpperInvariant()));
    }
}

/// <summary>The signature check through the real endpoints on Kestrel.</summary>
public sealed class SlackEndpointSignatureTests : SlackHostTestBase
{
    public static TheoryData<string> BadSignatures => new() { "wrong-secret", "tampered", "stale", "future", "no-signature", "no-timestamp" };

    [Theory]
    [MemberData(nameof(BadSignatures))]
    public async Task Badly_signed_approve_gets_401_and_sends_no_decision(string how)
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var body = SlackTestRequests.InteractionBody(SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, TestApprovals.Approver));
        // Well outside the 5-minute window: the host reads its real clock later than this line, and a loaded
        // machine must not slide a "future" request back inside (the boundary is tested on a fake clock above).
        var now = DateTimeOffset.UtcNow;
        var request = how switch
        {
            "wrong-secret" => SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", "not-the-secret", now),
            "tampered" => Tampered(body, now),
            "stale" => SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", SlackBotHost.SigningSecret, now.AddSeconds(-360)),
            "future" => SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", SlackBotHost.SigningSecret, now.AddSeconds(360)),
            "no-signature" => SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", null, now),
            _ => SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", SlackBotHost.SigningSecret, now, includeTimestamp: false),
        };

        using var response = await Bot.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, Bot.WorkQueue.Pending);
        Assert.Empty(Bot.Decisions.Commands);
        Assert.Empty(Slack.Calls);
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackSignatureRejected");
        Assert.DoesNotContain(Bot.Logs.Lines, l => l.Message.Contains(SlackBotHost.SigningSecret, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/slack/commands")]
    [InlineData("/slack/events")]
    public async Task Unsigned_commands_and_events_get_401(string path)
    {
        var body = path.EndsWith("events", StringComparison.Ordinal)
            ? Encoding.UTF8.GetBytes(SlackTestRequests.UrlVerification("abc").ToJsonString())
            : SlackTestRequests.SlashCommandBody("status", "U1");
        using var response = await Bot.Client.SendAsync(SlackTestRequests.Signed(path, body, "application/x-www-form-urlencoded", "wrong", DateTimeOffset.UtcNow));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(Bot.Status.LastPendingLimit);
    }

    [Fact]
    public async Task Signed_url_verification_echoes_the_challenge()
    {
        var body = Encoding.UTF8.GetBytes(SlackTestRequests.UrlVerification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P").ToJsonString());
        using var response = await Bot.PostSignedAsync("/slack/events", body, "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", json["challenge"]!.GetValue<string>());
    }

    [Fact]
    public async Task Other_signed_events_are_acknowledged()
    {
        var body = Encoding.UTF8.GetBytes("""{"type":"event_callback","event_id":"Ev1","event":{"type":"app_uninstalled"}}""");
        using var response = await Bot.PostSignedAsync("/slack/events", body, "application/json", retryNum: 1);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Signed_garbage_is_a_400_not_a_crash()
    {
        using var response = await Bot.PostSignedAsync("/slack/interactions", Encoding.UTF8.GetBytes("payload=%7Bnot+json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static HttpRequestMessage Tampered(byte[] body, DateTimeOffset now)
    {
        var request = SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", SlackBotHost.SigningSecret, now);
        var changed = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("U024BE7LH", "U024BE7LX", StringComparison.Ordinal));
        var headers = request.Content!.Headers.ContentType;
        request.Content = new ByteArrayContent(changed);
        request.Content.Headers.ContentType = headers;
        return request;
    }
}

public sealed class SlackDisabledTests
{
    [Theory]
    [InlineData("/slack/interactions")]
    [InlineData("/slack/commands")]
    [InlineData("/slack/events")]
    public async Task Endpoints_answer_404_when_Slack_is_disabled(string path)
    {
        await using var slack = await FakeSlackApi.StartAsync();
        await using var host = await SlackBotHost.StartAsync(slack, enabled: false);
        using var response = await host.PostSignedAsync(path, SlackTestRequests.SlashCommandBody("status", "U1"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(host.Services.GetServices<ApprovalBot.Bot.Channels.IApprovalChannel>());
    }
}
