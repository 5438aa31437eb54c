using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Status;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Status;

/// <summary>A gateway's webhook trouble, as its heartbeat carries it, reaches <c>/policy status</c>.</summary>
public sealed class WebhookStatusTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private static GatewayHeartbeat Beat(IReadOnlyList<WebhookHealth>? webhooks) =>
        new("gateway-1", "1.4.2", "deny by default; 7 rules", "deny", 7, Now.AddHours(-3), [new UpstreamHealth("agentwork", true, 6, null)],
            2, new DecisionCounts(120, 4, 2, 3), Now.AddSeconds(-4), webhooks);

    [Fact]
    public void Nothing_is_said_for_a_gateway_without_webhooks_or_one_that_predates_them()
    {
        Assert.Null(WebhookStatusText.Describe(Beat(null)));
        Assert.Null(WebhookStatusText.Describe(Beat([])));
    }

    [Fact]
    public void Healthy_webhooks_are_counted_and_failing_ones_named_with_why_and_what_waits()
    {
        Assert.Equal("webhooks: 2 ok", "webhooks: " + WebhookStatusText.Describe(Beat([
            new WebhookHealth("pager", false, 0, 0, null, null, Now),
            new WebhookHealth("siem", false, 0, 0, null, null, null)])));

        var text = "webhooks: " + WebhookStatusText.Describe(Beat([
            new WebhookHealth("pager", true, 3, 0, "HTTP 500 Internal Server Error", Now.AddMinutes(-12), Now.AddHours(-1)),
            new WebhookHealth("siem", false, 0, 1, "no answer within 10 s", null, Now),
            new WebhookHealth("tickets", false, 0, 0, null, null, Now)]));

        Assert.Equal(
            "webhooks: pager failing (HTTP 500 Internal Server Error), 3 waiting since 2026-11-23 08:48 UTC; siem 1 given up; 1 ok",
            text);
    }

    private static List<string> Texts(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Texts(p.Value)).ToList(),
        JsonArray a => a.SelectMany(Texts).ToList(),
        JsonValue v when v.TryGetValue<string>(out var text) => [text],
        _ => [],
    };

    [Fact]
    public void Slack_policy_status_shows_the_line_under_its_gateway_escaped()
    {
        var beat = Beat([new WebhookHealth("pager", true, 1, 0, "HTTP 502 <Bad Gateway>", Now.AddMinutes(-1), null)]);
        var snapshot = new StatusSnapshot([new GatewayStatus(beat, Now, true)], [], 0, new TodayCounts(0, 0, 0, 0, 0, 0), Now);

        var gateways = Texts(SlackStatusMessage.Build(snapshot, pendingOnly: false)["blocks"]).Single(t => t.StartsWith("*Gateways*", StringComparison.Ordinal));

        Assert.Contains("\n    webhooks: pager failing (HTTP 502 &lt;Bad Gateway&gt;), 1 waiting since", gateways);
        var without = Texts(SlackStatusMessage.Build(snapshot with { Gateways = [new GatewayStatus(Beat(null), Now, true)] }, pendingOnly: false)["blocks"]);
        Assert.DoesNotContain(without, t => t.Contains("webhooks:", StringComparison.Ordinal));
    }

    [Fact]
    public void Teams_policy_status_has_a_webhooks_fact_when_the_gateway_has_webhooks()
    {
        var beat = Beat([new WebhookHealth("pager", true, 1, 0, "HTTP 502 Bad Gateway", Now.AddMinutes(-1), null)]);
        var snapshot = new StatusSnapshot([new GatewayStatus(beat, Now, true)], [], 0, new TodayCounts(0, 0, 0, 0, 0, 0), Now);

        var facts = Texts(ApprovalBot.Bot.Teams.TeamsStatusCard.Status(snapshot));
        var without = Texts(ApprovalBot.Bot.Teams.TeamsStatusCard.Status(snapshot with { Gateways = [new GatewayStatus(Beat(null), Now, true)] }));

        var at = facts.IndexOf("Webhooks");
        Assert.True(at >= 0, "no Webhooks fact");
        Assert.StartsWith("pager failing (HTTP 502 Bad Gateway), 1 waiting since", facts[at + 1]);
        Assert.DoesNotContain("Webhooks", without);
    }
}
