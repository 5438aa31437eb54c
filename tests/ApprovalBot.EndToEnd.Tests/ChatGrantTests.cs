using System.Net;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Bot.Tests.Teams;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;
using static ApprovalBot.EndToEnd.Tests.TeamsEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// "Approve for 1h" with one click in Slack and in Teams, against the local fakes with correctly
/// signed requests: the call is released, the agent's next call runs without a card, the grant is
/// listed and revoked from chat, and then the next call asks again.
/// </summary>
public sealed class ChatGrantTests
{
    private const string Tool = ChannelRig.Tool;

    [Fact]
    public async Task Slack_approve_for_an_hour_then_list_and_revoke_the_grant_from_slash_commands()
    {
        await using var rig = await SlackRig.StartAsync(policy: GrantTests.Policy);
        var first = rig.CallCancelTaskAsync(task: "T-100");
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);
        var buttons = card.Blocks.Single(b => Type(b) == "actions")["elements"]!.AsArray();
        Assert.Equal("Approve once", buttons[0]!["text"]!["text"]!.GetValue<string>());
        Assert.Contains(buttons, b => b!["action_id"]!.GetValue<string>() == SlackActionIds.ApproveForPrefix + "1h");

        var click = await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.ApproveForPrefix + "1h", id, Approver, ApproverName, Channel, ts));
        Assert.Equal(HttpStatusCode.OK, click.StatusCode);

        var released = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", GrantTests.Text(released));
        var grantId = released.Meta!["approvalbot"]!["grantId"]!.GetValue<string>();
        var told = await rig.Slack.WaitForCallAsync("chat.postEphemeral", c => c.Get("user") == Approver);
        Assert.Contains("for 1h", told.Get("text"));
        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id && c.Blocks.Any(b => b["block_id"]?.GetValue<string>() == SlackActionIds.GrantBlock));
        Assert.False(update.HasActionsBlock);
        Assert.Contains(grantId, update.Body);

        // The agent's next call runs at once; no second card.
        var second = await rig.CallCancelTaskAsync(task: "T-101").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("allowed_by_grant", second.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        Assert.Single(rig.Slack.CallsTo("chat.postMessage"), c => c.ApprovalId is not null);

        var list = await Eventually.GetAsync(
            async () => await rig.SlashCommandAsync("grants", Approver),
            r => r?.ToJsonString().Contains(grantId, StringComparison.Ordinal) == true,
            what: "/policy grants listing the grant");
        Assert.Contains("*Active grants* — 1", list["text"]!.GetValue<string>());
        var status = (await rig.SlashCommandAsync("status", Approver))["blocks"]!.AsArray().Select(b => b!["text"]?["text"]?.GetValue<string>() ?? "");
        Assert.Contains(status, s => s.StartsWith("*Active grants* — 1", StringComparison.Ordinal) && s.Contains(grantId, StringComparison.Ordinal));

        var refused = await rig.SlashCommandAsync($"revoke {grantId}", Intruder);
        Assert.Contains("may not revoke", refused["text"]!.GetValue<string>());
        var revoked = await rig.SlashCommandAsync($"revoke {grantId}", Approver);
        Assert.Contains("Grant revoked", revoked["text"]!.GetValue<string>());

        using var cts = new CancellationTokenSource();
        var third = rig.CallCancelTaskAsync(cts.Token, task: "T-102");
        var next = await rig.Slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId is { } other && other != id);
        Assert.True(next.HasActionsBlock);
        Assert.False(third.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Teams_approve_for_an_hour_then_list_and_revoke_the_grant_from_the_grants_card()
    {
        await using var rig = await TeamsRig.StartAsync(policy: GrantTests.Policy);
        var first = rig.CallCancelTaskAsync(task: "T-100");
        var (id, created) = await rig.WaitForCardAsync();
        var approveFor = Descendants(created.Card!).Where(n => n["type"]?.GetValue<string>() == "Action.Execute" && n["data"]?["grant"] is not null).ToList();
        Assert.Equal(["15m", "1h"], approveFor.Select(a => a["data"]!["grant"]!.GetValue<string>()));

        var click = TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId, name: "Ada Approver");
        click["value"]!["action"]!["data"]!["grant"] = "1h";
        var (response, answer) = await rig.PostActivityAsync(click);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var replaced = answer["value"]!.ToJsonString();
        Assert.Contains("Approved for a while", replaced);

        var released = await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", GrantTests.Text(released));
        var grantId = released.Meta!["approvalbot"]!["grantId"]!.GetValue<string>();
        Assert.Contains(grantId, replaced);

        var second = await rig.CallCancelTaskAsync(task: "T-101").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("allowed_by_grant", second.Meta?["approvalbot"]?["decision"]?.GetValue<string>());
        Assert.Single(rig.Connector.Calls, c => c.Kind == "create");

        // "policy grants" answers with the grants card; its Revoke button ends the grant.
        await Eventually.GetAsync(async () => await GrantTests.GrantsAsync(rig.Console), g => g?.Length == 1, what: "the grant in the read model");
        var message = TeamsActivities.Message(rig.Connector.ServiceUrl, "<at>ApprovalBot</at> policy grants");
        message["from"]!["aadObjectId"] = PolicyApproverAadId;
        Assert.Equal(HttpStatusCode.OK, (await rig.PostActivityAsync(message)).Response.StatusCode);
        var listed = await rig.Connector.WaitForCallAsync(c => c.Kind == "send" && c.Card?.ToJsonString().Contains(grantId, StringComparison.Ordinal) == true);
        var revokeButton = Descendants(listed.Card!).Single(n => n["verb"]?.GetValue<string>() == "revokeGrant");
        Assert.Equal(grantId, revokeButton["data"]!["grantId"]!.GetValue<string>());

        var revoke = TeamsActivities.Invoke(rig.Connector.ServiceUrl, "revokeGrant", Guid.Empty, PolicyApproverAadId, name: "Ada Approver");
        revoke["value"]!["action"]!["data"] = revokeButton["data"]!.DeepClone();
        var (revokeResponse, revokeAnswer) = await rig.PostActivityAsync(revoke);
        Assert.Equal(HttpStatusCode.OK, revokeResponse.StatusCode);
        Assert.Contains("Grant revoked", revokeAnswer["value"]!.ToJsonString());

        using var cts = new CancellationTokenSource();
        var third = rig.CallCancelTaskAsync(cts.Token, task: "T-102");
        await Eventually.GetAsync(() => Task.FromResult<int?>(rig.Connector.Calls.Count(c => c.Kind == "create")), n => n == 2, what: "a new card for the next call");
        Assert.False(third.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
        rig.AssertNoSecretReachedTeams();
    }

    private static IEnumerable<JsonObject> Descendants(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                yield return obj;
                foreach (var (_, child) in obj)
                {
                    if (child is not null)
                    {
                        foreach (var d in Descendants(child))
                        {
                            yield return d;
                        }
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        foreach (var d in Descendants(child))
                        {
                            yield return d;
                        }
                    }
                }

                break;
        }
    }
}
