using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>The Slack side of time-boxed grants: "Approve for …" buttons, the approved card, the grants list; all within Block Kit's limits.</summary>
public sealed class SlackGrantCardTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly Approver Alice = new("slack", TestApprovals.Approver, "alice", SlackTestRequests.TeamId);

    private static ApprovalView Grantable(string scope = "tool") =>
        TestApprovals.Pending(requestedAt: Now.AddMinutes(-2)) is var view
            ? view with { Request = view.Request with { Grants = ["15m", "1h", "8h"], GrantScope = scope } }
            : throw new InvalidOperationException();

    private static JsonArray Buttons(JsonArray blocks) =>
        blocks.Single(b => (string?)b!["type"] == "actions")!["elements"]!.AsArray();

    [Fact]
    public void A_rule_with_grants_offers_approve_once_and_one_button_per_duration_each_with_a_confirmation()
    {
        var approval = Grantable();
        var blocks = SlackCard.Blocks(approval, Now);
        SlackBlockKit.AssertValid(blocks);

        var buttons = Buttons(blocks);
        Assert.Equal(
            [SlackActionIds.Approve, "approvalbot_approve_for_15m", "approvalbot_approve_for_1h", "approvalbot_approve_for_8h", SlackActionIds.Deny, SlackActionIds.DenyWithReason, SlackActionIds.Withdraw],
            buttons.Select(b => (string?)b!["action_id"]));
        Assert.Equal("Approve once", (string?)buttons[0]!["text"]!["text"]);
        Assert.Equal("Approve for 1h", (string?)buttons[2]!["text"]!["text"]);
        Assert.Contains("later calls of ci-bot", (string?)buttons[2]!["confirm"]!["text"]!["text"]);
        Assert.All(buttons, b => Assert.Equal(approval.Id.ToString(), (string?)b!["value"]));
    }

    [Fact]
    public void A_rule_without_grants_keeps_the_plain_approve_button()
    {
        var buttons = Buttons(SlackCard.Blocks(TestApprovals.Pending(requestedAt: Now), Now));

        Assert.Equal("Approve", (string?)buttons[0]!["text"]!["text"]);
        Assert.DoesNotContain(buttons, b => ((string?)b!["action_id"])!.StartsWith(SlackActionIds.ApproveForPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public void The_card_approved_for_a_while_names_the_grant_its_end_and_how_to_revoke_it()
    {
        var grantId = Guid.NewGuid();
        var approved = Grantable("arguments") with { Status = ApprovalStatus.Approved, DecidedBy = Alice, ResolvedAt = Now, GrantId = grantId, GrantUntil = Now.AddHours(1) };

        var blocks = SlackCard.Blocks(approved, Now);
        SlackBlockKit.AssertValid(blocks);

        Assert.DoesNotContain(blocks, b => (string?)b!["type"] == "actions");
        var grant = blocks.Single(b => (string?)b!["block_id"] == SlackActionIds.GrantBlock)!["text"]!["text"]!.GetValue<string>();
        Assert.Contains("with these arguments", grant);
        Assert.Contains($"/policy revoke {grantId}", grant);
    }

    [Fact]
    public void The_grants_list_shows_each_grant_with_its_id_and_stays_within_limits()
    {
        var grants = Enumerable.Range(0, 40).Select(i => new GrantView(new GrantCreated(
            Guid.NewGuid(), Guid.NewGuid(), $"agent-{i}-" + new string('a', 80), "agentwork_cancel_task", "agentwork", "rules.agentwork_cancel_task",
            i % 2 == 0 ? "tool" : "arguments", null, Alice, "slack", Now, Now.AddHours(1), [], new Uri("queue:gw"), "gw"))).ToList();

        var reply = SlackStatusMessage.GrantList(grants, 55, Now, "/policy");
        var blocks = reply["blocks"]!.AsArray();
        SlackBlockKit.AssertValid(blocks);

        var text = blocks[0]!["text"]!["text"]!.GetValue<string>();
        Assert.StartsWith("*Active grants* — 55", text);
        Assert.Contains(grants[0].Id.ToString(), text);
        Assert.Contains("more.", text);
        Assert.Contains("/policy revoke ID", blocks[1]!.ToJsonString());
        Assert.Contains("No grant is active", SlackStatusMessage.GrantList([], 0, Now, "/policy")["text"]!.GetValue<string>());
    }

    [Fact]
    public void An_editable_approval_offers_edit_and_approve_and_its_dialog_holds_the_redacted_json_within_limits()
    {
        var approval = Grantable() with { Request = Grantable().Request with { Editable = true } };

        var blocks = SlackCard.Blocks(approval, Now);
        SlackBlockKit.AssertValid(blocks);
        Assert.Contains(Buttons(blocks), b => (string?)b!["action_id"] == SlackActionIds.EditApprove);

        var modal = SlackCard.EditModal(approval, "C1")!;
        Assert.True(((string?)modal["title"]!["text"])!.Length <= 24);
        SlackBlockKit.AssertValid(modal["blocks"]!.AsArray());
        var initial = (string?)modal["blocks"]![1]!["element"]!["initial_value"];
        Assert.Contains("\"api_key\": \"[redacted]\"", initial);
        Assert.True(initial!.Length <= SlackCard.MaxEditChars);

        var huge = approval with { Request = approval.Request with { RedactedArguments = "{\"x\":\"" + new string('y', 4000) + "\"}" } };
        Assert.Null(SlackCard.EditModal(huge, "C1"));

        var edited = approval with { Status = ApprovalStatus.Approved, DecidedBy = Alice, ResolvedAt = Now, EditedArguments = "{\"task_id\":\"T-7\",\"api_key\":\"[redacted]\"}" };
        var final = SlackCard.Blocks(edited, Now);
        SlackBlockKit.AssertValid(final);
        Assert.Contains("T-7", final.Single(b => (string?)b!["block_id"] == SlackActionIds.EditedBlock)!.ToJsonString());
    }

    [Fact]
    public void An_escalated_pending_card_names_whom_it_was_escalated_to()
    {
        var escalated = Grantable() with { EscalatedAt = Now, EscalatedTo = ["slack:U0ONCALL", "teams:aad-1"] };

        var blocks = SlackCard.Blocks(escalated, Now);
        SlackBlockKit.AssertValid(blocks);

        var text = blocks.Single(b => (string?)b!["block_id"] == SlackActionIds.EscalatedBlock)!["text"]!["text"]!.GetValue<string>();
        Assert.Contains("<@U0ONCALL>", text);
        Assert.Contains("teams:aad-1", text);
        Assert.Contains(blocks, b => (string?)b!["type"] == "actions");
    }
}
