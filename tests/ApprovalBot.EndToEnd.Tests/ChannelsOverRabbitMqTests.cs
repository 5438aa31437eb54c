using System.Net;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Bot.Tests.Teams;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Protocol;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Slack and Teams as deployed at scale: the gateway and the bot as two processes of the real
/// executable on a real RabbitMQ. The bot posts both cards; a signed Slack click and a Teams invoke
/// reach the bot's webhooks, their decisions cross the broker to the gateway holding the call, and
/// every card learns the outcome. No secret reaches either platform.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class ChannelsOverRabbitMqTests(RabbitMqNode rabbit)
{
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";

    [Fact]
    public async Task A_slack_click_and_a_teams_invoke_at_the_bot_process_decide_calls_held_by_the_gateway_process()
    {
        await using var rig = await ChannelRig.StartAsync(new ChannelRigOptions { Slack = true, Teams = true, SeparateProcessesOn = rabbit });
        Assert.NotEqual(rig.GatewayUrl, rig.BotUrl);
        Assert.Null(rig.Host);

        // Approved in Slack.
        var approved = rig.CallCancelTaskAsync();
        var id = await rig.WaitForPendingAsync();
        var slackCard = await rig.Slack!.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId == id, TimeSpan.FromSeconds(30));
        var (_, teamsCard) = await TeamsEndToEndTests.TeamsRig.WaitForCardAsync(rig);
        var click = await SlackRig.PostInteractionAsync(
            rig, SlackTestRequests.BlockActions(SlackActionIds.Approve, id, Approver, ApproverName, Channel, CardTsOf(rig.Slack, slackCard)));
        Assert.Equal(HttpStatusCode.OK, click.StatusCode);

        var result = await approved.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        await rig.Slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == id && OutcomeText(c).Contains("Approved", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var teamsFinal = await TeamsEndToEndTests.TeamsRig.WaitForFinalPutAsync(rig, teamsCard, "Approved");
        Assert.Null(teamsFinal.Card!["actions"]);

        // Denied in Teams.
        var denied = rig.CallCancelTaskAsync(task: "T-101");
        var second = await rig.WaitForPendingAsync();
        var secondSlackCard = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId == second, TimeSpan.FromSeconds(30));
        var (_, secondTeamsCard) = await TeamsEndToEndTests.TeamsRig.WaitForCardAsync(rig);
        var (response, answer) = await TeamsEndToEndTests.TeamsRig.PostActivityAsync(
            rig, TeamsActivities.Invoke(rig.Connector!.ServiceUrl, "deny", second, TeamsEndToEndTests.PolicyApproverAadId, comment: "not on a Friday"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, answer["statusCode"]?.GetValue<int>());

        var refusal = await denied.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(refusal.IsError);
        Assert.Contains("not on a Friday", Assert.IsType<TextContentBlock>(refusal.Content[0]).Text, StringComparison.Ordinal);
        await rig.Slack.WaitForCallAsync("chat.update", c => c.Succeeded && c.ApprovalId == second && OutcomeText(c).Contains("Denied", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        await TeamsEndToEndTests.TeamsRig.WaitForFinalPutAsync(rig, secondTeamsCard, "Denied");
        Assert.NotEqual(slackCard.Sequence, secondSlackCard.Sequence);

        rig.AssertNoSecretReachedSlack();
        rig.AssertNoSecretReachedTeams();
    }

    /// <summary>The ts the fake gave a card (its n-th successful post).</summary>
    private static string CardTsOf(FakeSlackApi slack, SlackApiCall card)
    {
        var n = slack.CallsTo("chat.postMessage").Count(c => c.Succeeded && c.Sequence <= card.Sequence);
        return $"17000{n:00000}.{n:000000}";
    }
}
