using System.Net;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>Signed button clicks and dialog submissions through the real endpoint, with Slack's Web API faked.</summary>
public sealed class SlackInteractionTests : SlackHostTestBase
{
    [Fact]
    public async Task Approve_from_an_allowed_user_sends_exactly_one_decision()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        using var response = await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, TestApprovals.Approver, "alice"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.TrueAsync(() => Bot.Decisions.Commands.Count == 1, "the decision");
        var command = Bot.Decisions.Commands[0];
        Assert.Equal(approval.Id, command.ApprovalId);
        Assert.True(command.Approve);
        Assert.Equal("slack", command.Channel);
        Assert.Null(command.Comment);
        Assert.Equal("slack", command.Approver.Platform);
        Assert.Equal(TestApprovals.Approver, command.Approver.UserId);
        Assert.Equal("alice", command.Approver.DisplayName);
        Assert.Equal(SlackTestRequests.TeamId, command.Approver.TenantId);

        // The gateway's answer reaches the clicker ephemerally; the card itself changes on ApprovalResolved.
        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal(TestApprovals.Approver, ephemeral.Get("user"));
        Assert.Equal(SlackBotHost.ChannelId, ephemeral.Get("channel"));
        Assert.Equal("Approved by alice.", ephemeral.Get("text"));
        Assert.Empty(Slack.CallsTo("chat.update"));
    }

    [Fact]
    public async Task A_retried_delivery_sends_no_second_decision()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var payload = SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, TestApprovals.Approver, "alice");

        using (var first = await Bot.PostInteractionAsync(payload))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        for (var retry = 1; retry <= 3; retry++)
        {
            using var again = await Bot.PostInteractionAsync(payload, retryNum: retry);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        await Bot.WaitForIdleAsync();
        Assert.Single(Bot.Decisions.Commands);
        Assert.Single(Slack.CallsTo("chat.postEphemeral"));
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackDuplicateDelivery");
    }

    [Fact]
    public async Task A_second_click_is_told_who_decided_first()
    {
        var approval = TestApprovals.Pending(approvers: ["slack:U1", "slack:U2"]);
        Bot.ReadModel.Put(approval);

        await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, "U1", "alice"));
        await Eventually.TrueAsync(() => Bot.Decisions.Commands.Count == 1, "the first decision");
        await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Deny, approval.Id, "U2", "bob"));

        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral", c => c.Get("user") == "U2");
        Assert.Equal("Already approved by alice.", ephemeral.Get("text"));
    }

    [Fact]
    public async Task An_unauthorized_user_changes_nothing_and_is_told_so()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        using var response = await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, "U0MALLORY", "mallory"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal("U0MALLORY", ephemeral.Get("user"));
        Assert.Equal(SlackBotHost.ChannelId, ephemeral.Get("channel"));
        Assert.Equal($"You are not an approver for {TestApprovals.Tool} (approval {approval.Id}).", ephemeral.Get("text"));
        await Bot.WaitForIdleAsync();
        Assert.Empty(Bot.Decisions.Commands);
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackNotAnApprover");
    }

    [Fact]
    public async Task An_unauthorized_user_gets_no_deny_dialog()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.DenyWithReason, approval.Id, "U0MALLORY", "mallory"));

        await Slack.WaitForCallAsync("chat.postEphemeral");
        await Bot.WaitForIdleAsync();
        Assert.Empty(Slack.CallsTo("views.open"));
        Assert.Empty(Bot.Decisions.Commands);
    }

    [Fact]
    public async Task Deny_with_reason_opens_a_dialog_and_its_submission_denies_with_the_comment()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var click = SlackTestRequests.BlockActions(SlackActionIds.DenyWithReason, approval.Id, TestApprovals.Approver, "alice", triggerId: "12345.98765.abcd2358fdea");

        using (var response = await Bot.PostInteractionAsync(click))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var open = await Slack.WaitForCallAsync("views.open");
        Assert.Equal("12345.98765.abcd2358fdea", open.Get("trigger_id"));
        var view = open.Json!["view"]!;
        Assert.Equal("modal", view["type"]!.GetValue<string>());
        Assert.Equal(SlackActionIds.DenyReasonModal, view["callback_id"]!.GetValue<string>());
        Assert.All(new[] { "title", "submit", "close" }, k => Assert.InRange(view[k]!["text"]!.GetValue<string>().Length, 1, 24));
        var metadata = view["private_metadata"]!.GetValue<string>();
        Assert.Contains(approval.Id.ToString(), metadata);
        var input = view["blocks"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "input")!;
        Assert.Equal("plain_text_input", input["element"]!["type"]!.GetValue<string>());
        Assert.Empty(Bot.Decisions.Commands);

        using var submitted = await Bot.PostInteractionAsync(SlackTestRequests.DenyReasonSubmission(metadata, "Task T-42 is the nightly backup; leave it.", TestApprovals.Approver, "alice"));

        Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
        Assert.Equal("", await submitted.Content.ReadAsStringAsync()); // closes the dialog
        await Eventually.TrueAsync(() => Bot.Decisions.Commands.Count == 1, "the decision");
        var command = Bot.Decisions.Commands[0];
        Assert.False(command.Approve);
        Assert.Equal("Task T-42 is the nightly backup; leave it.", command.Comment);
        Assert.Equal(TestApprovals.Approver, command.Approver.UserId);
        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal("Denied by alice.", ephemeral.Get("text"));
    }

    [Fact]
    public async Task Deny_dialog_with_a_bare_approval_id_as_metadata_also_works()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        await Bot.PostInteractionAsync(SlackTestRequests.DenyReasonSubmission(approval.Id.ToString(), "no", TestApprovals.Approver));
        await Eventually.TrueAsync(() => Bot.Decisions.Commands.Count == 1, "the decision");
        Assert.Equal("no", Bot.Decisions.Commands[0].Comment);
    }

    [Fact]
    public async Task An_empty_reason_keeps_the_dialog_open_with_an_error()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        using var response = await Bot.PostInteractionAsync(SlackTestRequests.DenyReasonSubmission(approval.Id.ToString(), "   ", TestApprovals.Approver));

        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("errors", json["response_action"]!.GetValue<string>());
        Assert.NotNull(json["errors"]!["approvalbot_reason"]);
        await Bot.WaitForIdleAsync();
        Assert.Empty(Bot.Decisions.Commands);
    }

    [Fact]
    public async Task A_decided_approval_gets_no_deny_dialog()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval with { Status = ApprovalStatus.Approved, DecidedBy = new("slack", "U1", "alice") });

        await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.DenyWithReason, approval.Id, TestApprovals.Approver));

        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal("Already approved by alice.", ephemeral.Get("text"));
        Assert.Empty(Slack.CallsTo("views.open"));
    }

    [Fact]
    public async Task A_gateway_that_does_not_answer_is_reported_to_the_clicker()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        Bot.Decisions.Failure = new TimeoutException("no answer from the gateway");

        await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, TestApprovals.Approver));

        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Contains("did not reach the gateway", ephemeral.Get("text"));
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackDecisionFailed");
    }

    [Fact]
    public async Task Withdraw_from_an_approver_sends_one_withdraw_decision_with_the_clicker_as_approver()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        using var response = await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Withdraw, approval.Id, TestApprovals.Approver, "alice"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.TrueAsync(() => Bot.Decisions.Commands.Count == 1, "the decision");
        var command = Bot.Decisions.Commands[0];
        Assert.Equal(approval.Id, command.ApprovalId);
        Assert.True(command.Withdraw);
        Assert.False(command.Approve);
        Assert.Equal("slack", command.Channel);
        Assert.Equal(new ApprovalBot.Core.Contracts.Approver("slack", TestApprovals.Approver, "alice", SlackTestRequests.TeamId), command.Approver);
        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal("Withdrawn by alice.", ephemeral.Get("text"));
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackDecisionSent" && l.Message.Contains("withdrew", StringComparison.Ordinal));

        // The card the gateway's ApprovalResolved then brings: "Withdrawn by alice", no buttons.
        await Bot.Channel.UpdateAsync(Bot.ReadModel.Get(approval.Id)!, CancellationToken.None);
        var update = Assert.Single(Slack.CallsTo("chat.update"));
        Assert.False(update.HasActionsBlock);
        Assert.Contains($"*Withdrawn* by <@{TestApprovals.Approver}>", update.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Withdraw_from_a_non_approver_changes_nothing_and_is_told_so()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        await Bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Withdraw, approval.Id, "U0MALLORY", "mallory"));

        var ephemeral = await Slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal($"You are not an approver for {TestApprovals.Tool} (approval {approval.Id}).", ephemeral.Get("text"));
        await Bot.WaitForIdleAsync();
        Assert.Empty(Bot.Decisions.Commands);
        Assert.Equal(ApprovalStatus.Pending, Bot.ReadModel.Get(approval.Id)!.Status);
    }

    [Fact]
    public async Task A_retried_withdraw_delivery_sends_no_second_decision_and_a_badly_signed_one_none_at_all()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var payload = SlackTestRequests.BlockActions(SlackActionIds.Withdraw, approval.Id, TestApprovals.Approver, "alice");
        var body = SlackTestRequests.InteractionBody(payload);

        using (var forged = await Bot.Client.SendAsync(SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", "not-the-signing-secret", DateTimeOffset.UtcNow)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        using (var stale = await Bot.Client.SendAsync(SlackTestRequests.Signed("/slack/interactions", body, "application/x-www-form-urlencoded", SlackBotHost.SigningSecret, DateTimeOffset.UtcNow.AddMinutes(-10))))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        }

        await Bot.WaitForIdleAsync();
        Assert.Empty(Bot.Decisions.Commands);

        using (var first = await Bot.PostInteractionAsync(payload))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var again = await Bot.PostInteractionAsync(payload, retryNum: 1))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        await Bot.WaitForIdleAsync();
        Assert.True(Assert.Single(Bot.Decisions.Commands).Withdraw);
    }

    [Fact]
    public async Task Unknown_actions_are_acknowledged_and_ignored()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        using var response = await Bot.PostInteractionAsync(SlackTestRequests.BlockActions("some_other_app_button", approval.Id, TestApprovals.Approver));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Bot.WaitForIdleAsync();
        Assert.Empty(Bot.Decisions.Commands);
        Assert.Empty(Slack.Calls);
    }
}
