using System.Net;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Bot.Tests.Teams;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Protocol;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;
using static ApprovalBot.EndToEnd.Tests.TeamsEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// An approval nobody answers reaches the escalation group, end to end against the fakes. The rule
/// escalates after one second so the real host's clock gets there; the waits only wait (the
/// controlled-clock tests of the delay itself are Gateway.Tests' EscalationTests).
/// </summary>
public sealed class EscalationEndToEndTests
{
    private const string OnCallAad = "22222222-3333-4444-5555-666666666666";

    private const string Policy = """
        {
          "version": "1",
          "default": "deny",
          "groups": { "oncall": ["slack:U0ONCALL", "teams:22222222-3333-4444-5555-666666666666"] },
          "rules": {
            "agentwork_list_*": { "action": "allow" },
            "agentwork_cancel_task": {
              "action": "require_approval",
              "reason": "Cancels a running task; cannot be undone",
              "approvers": ["slack:U0APPROVER", "teams:11111111-2222-3333-4444-555555555555"],
              "timeout": "10m",
              "escalate": { "after": "1s", "to": ["group:oncall"] }
            }
          }
        }
        """;

    [Fact]
    public async Task Slack_thread_mentions_the_on_call_group_who_may_then_approve()
    {
        await using var rig = await SlackRig.StartAsync(policy: Policy);
        var call = rig.CallCancelTaskAsync(task: "T-100");
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);

        var mention = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.Get("thread_ts") == ts && c.Get("text")?.Contains("<@U0ONCALL>", StringComparison.Ordinal) == true);
        Assert.Contains("escalated", mention.Get("text"));
        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id && c.Blocks.Any(b => b["block_id"]?.GetValue<string>() == SlackActionIds.EscalatedBlock));
        Assert.True(update.HasActionsBlock);
        var pending = (await ConsoleApi.ListAsync(rig.Console)).Single();
        Assert.Contains("slack:U0ONCALL", pending.GetProperty("approvers").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.String, pending.GetProperty("escalatedAt").ValueKind);

        var click = await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, id, "U0ONCALL", "oncall.person", Channel, ts));
        Assert.Equal(HttpStatusCode.OK, click.StatusCode);
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        Assert.Contains(await rig.AuditAsync(id), a => a is { Decision: "approved", Actor: "slack:U0ONCALL" });
        Assert.Contains(await rig.AuditAsync(id), a => a.Decision == "escalated");
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Teams_posts_a_card_mentioning_the_on_call_user_who_may_then_approve()
    {
        await using var rig = await TeamsRig.StartAsync(policy: Policy);
        var call = rig.CallCancelTaskAsync(task: "T-100");
        var (id, created) = await rig.WaitForCardAsync();

        var notice = await rig.Connector.WaitForCallAsync(c => c.Kind == "send" && c.Activity?["entities"]?.ToJsonString().Contains(OnCallAad, StringComparison.Ordinal) == true);
        Assert.Contains($"<at>{OnCallAad}</at>", notice.Activity!["text"]!.GetValue<string>());
        Assert.Contains("Escalated", notice.Card!.ToJsonString());

        var (response, _) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, OnCallAad, name: "On Call"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        await rig.WaitForFinalPutAsync(created, "On Call");
        rig.AssertNoSecretReachedTeams();
    }
}
