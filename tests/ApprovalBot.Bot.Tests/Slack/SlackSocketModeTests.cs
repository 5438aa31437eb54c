using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>Socket Mode against the fake's WebSocket: the same handlers as HTTP mode, no signatures, acks by envelope_id.</summary>
public sealed class SlackSocketModeTests : SlackHostTestBase
{
    protected override bool SocketMode => true;

    [Fact]
    public async Task Connects_with_the_app_token_and_handles_an_interactive_envelope()
    {
        var socket = await Slack.WaitForSocketAsync(1);
        var open = Assert.Single(Slack.CallsTo("apps.connections.open"));
        Assert.Equal($"Bearer {SlackBotHost.AppToken}", open.Authorization);
        Assert.True(open.Succeeded);

        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var click = SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, TestApprovals.Approver, "alice");
        var envelopeId = await socket.SendEnvelopeAsync("interactive", click.DeepClone());

        var ack = await socket.WaitForAckAsync(envelopeId);
        Assert.Equal(envelopeId, ack["envelope_id"]!.GetValue<string>());
        Assert.Null(ack["payload"]);
        await Eventually.TrueAsync(() => Bot.Decisions.Commands.Count == 1, "the decision");
        Assert.True(Bot.Decisions.Commands[0].Approve);
        Assert.Equal(TestApprovals.Approver, Bot.Decisions.Commands[0].Approver.UserId);
        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal($"Bearer {SlackBotHost.BotToken}", ephemeral.Authorization);

        // Slack redelivers an envelope it thinks was not acknowledged: no second decision.
        var retried = await socket.SendEnvelopeAsync("interactive", click.DeepClone(), envelopeId, retryAttempt: 1);
        await socket.WaitForAckAsync(retried);
        await Bot.WaitForIdleAsync();
        Assert.Single(Bot.Decisions.Commands);
    }

    [Fact]
    public async Task Slash_command_is_answered_in_the_ack_payload()
    {
        var socket = await Slack.WaitForSocketAsync(1);
        var fields = SlackTestRequests.SlashCommandFields("help", "U0ANYONE");
        var payload = new JsonObject();
        foreach (var (key, value) in fields)
        {
            payload[key] = value;
        }

        var envelopeId = await socket.SendEnvelopeAsync("slash_commands", payload);

        var ack = await socket.WaitForAckAsync(envelopeId);
        Assert.Equal("ephemeral", ack["payload"]!["response_type"]!.GetValue<string>());
        Assert.Contains("Usage", ack["payload"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task View_submission_errors_are_returned_in_the_ack_payload()
    {
        var socket = await Slack.WaitForSocketAsync(1);
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        var envelopeId = await socket.SendEnvelopeAsync("interactive", SlackTestRequests.DenyReasonSubmission(approval.Id.ToString(), "", TestApprovals.Approver));

        var ack = await socket.WaitForAckAsync(envelopeId);
        Assert.Equal("errors", ack["payload"]!["response_action"]!.GetValue<string>());
    }

    [Fact]
    public async Task Events_are_acknowledged()
    {
        var socket = await Slack.WaitForSocketAsync(1);
        var envelopeId = await socket.SendEnvelopeAsync("events_api", new JsonObject { ["type"] = "event_callback", ["event"] = new JsonObject { ["type"] = "app_mention" } });
        var ack = await socket.WaitForAckAsync(envelopeId);
        Assert.Equal(envelopeId, ack["envelope_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Disconnect_opens_a_new_socket_then_closes_the_old_one()
    {
        var first = await Slack.WaitForSocketAsync(1);

        await first.SendDisconnectAsync();

        var second = await Slack.WaitForSocketAsync(2);
        await first.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(first.ClosedOrder > second.OpenedOrder, "the old socket was closed only after the new one was open");
        Assert.Equal(2, Slack.CallsTo("apps.connections.open").Count);
        Assert.Equal(2, second.UrlId);

        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var envelopeId = await second.SendEnvelopeAsync("interactive", SlackTestRequests.BlockActions(SlackActionIds.Deny, approval.Id, TestApprovals.Approver));
        await second.WaitForAckAsync(envelopeId);
        await Eventually.TrueAsync(() => Bot.Decisions.Commands.Count == 1, "the decision over the new socket");
        Assert.False(Bot.Decisions.Commands[0].Approve);
    }

    [Fact]
    public async Task A_socket_that_drops_is_reconnected()
    {
        var first = await Slack.WaitForSocketAsync(1);
        first.Abort();

        var second = await Slack.WaitForSocketAsync(2, TimeSpan.FromSeconds(15));
        var envelopeId = await second.SendEnvelopeAsync("events_api", new JsonObject { ["type"] = "event_callback" });
        await second.WaitForAckAsync(envelopeId);
    }
}
