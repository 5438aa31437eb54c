using ApprovalBot.Bot.Slack;
using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>With Slack:TeamIds set, a member of another workspace (a Slack Connect channel) cannot decide, even when the rule names no approvers.</summary>
public sealed class SlackTeamAllowListTests
{
    [Fact]
    public async Task Member_of_another_workspace_is_refused_and_changes_nothing()
    {
        await using var slack = await FakeSlackApi.StartAsync();
        await using var bot = await SlackBotHost.StartAsync(slack, extraConfiguration: new Dictionary<string, string?> { ["ApprovalBot:Slack:TeamIds:0"] = "T0OURS" });
        var approval = TestApprovals.Pending(approvers: []);
        bot.ReadModel.Put(approval);
        var click = SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, "U0GUEST", "guest");
        click["team"] = new JsonObject { ["id"] = "T0OTHER", ["domain"] = "partner" };
        click["user"]!["team_id"] = "T0OTHER";

        using var response = await bot.PostInteractionAsync(click);

        var ephemeral = await slack.WaitForCallAsync("chat.postEphemeral");
        Assert.Equal($"You are not an approver for {TestApprovals.Tool} (approval {approval.Id}).", ephemeral.Get("text"));
        await bot.WaitForIdleAsync();
        Assert.Empty(bot.Decisions.Commands);
    }

    [Fact]
    public async Task Member_of_a_listed_workspace_may_decide()
    {
        await using var slack = await FakeSlackApi.StartAsync();
        await using var bot = await SlackBotHost.StartAsync(slack, extraConfiguration: new Dictionary<string, string?> { ["ApprovalBot:Slack:TeamIds:0"] = SlackTestRequests.TeamId });
        var approval = TestApprovals.Pending(approvers: []);
        bot.ReadModel.Put(approval);

        using var response = await bot.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.Approve, approval.Id, "U0MEMBER", "member"));

        await Eventually.TrueAsync(() => bot.Decisions.Commands.Count == 1, "the decision");
    }
}
