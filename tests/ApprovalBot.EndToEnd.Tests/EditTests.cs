using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Bot.Tests.Teams;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol.Protocol;
using static ApprovalBot.EndToEnd.Tests.SlackEndToEndTests;
using static ApprovalBot.EndToEnd.Tests.TeamsEndToEndTests;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Edit, then approve, end to end: the upstream (the sample, which refuses a wrong api_key) receives
/// the edited arguments with the hidden api_key put back; edits the policy denies, that break the
/// tool's inputSchema, or that touch a hidden value are refused and change nothing.
/// </summary>
public sealed class EditTests
{
    private const string Tool = ChannelRig.Tool;

    /// <summary>T-102 is protected by an exact rule with a condition; every other cancel needs approval and may be edited.</summary>
    internal const string Policy = """
        {
          "version": "1",
          "default": "deny",
          "rules": {
            "agentwork_list_*": { "action": "allow" },
            "agentwork_cancel_task": { "action": "deny", "reason": "T-102 is protected", "when": { "args.task_id": "T-102" } },
            "agentwork_cancel_*": {
              "action": "require_approval",
              "reason": "Cancels a running task; cannot be undone",
              "approvers": ["console:admin", "slack:U0APPROVER", "teams:11111111-2222-3333-4444-555555555555"],
              "timeout": "10m"
            }
          }
        }
        """;

    private static string Edit(string task) => $$"""{"task_id": "{{task}}", "api_key": "[redacted]"}""";

    [Fact]
    public async Task The_upstream_receives_the_edited_arguments_with_the_hidden_value_kept_and_the_agent_is_told()
    {
        await using var rig = await ConsoleRig.StartAsync(Policy);
        var call = rig.CallCancelTaskAsync(task: "T-100");
        var id = await rig.WaitForPendingIdAsync();
        var pending = (await ConsoleApi.ListAsync(rig.Console)).Single();
        Assert.True(pending.GetProperty("editable").GetBoolean());
        Assert.Contains("\"api_key\":\"[redacted]\"", pending.GetProperty("arguments").GetString());

        var (response, body) = await ApproveAsync(rig.Console, id, Edit("T-101"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("arguments changed", body.GetProperty("message").GetString());

        // The sample refuses a wrong api_key: T-101 cancelled means the original key was sent with the edit.
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(true, result.IsError);
        Assert.Equal("Task T-101 (Rebuild search index) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var note = Assert.IsType<TextContentBlock>(result.Content[^1]).Text;
        Assert.Contains("console admin changed the arguments", note);
        Assert.Contains("T-101", note);
        Assert.DoesNotContain(GatewayHost.SampleApiKey, note);
        var meta = result.Meta!["approvalbot"]!;
        Assert.True(meta["argumentsEdited"]!.GetValue<bool>());
        Assert.Equal("console:admin", meta["editedBy"]!.GetValue<string>());
        Assert.Equal("T-101", meta["ranWith"]!["task_id"]!.GetValue<string>());
        Assert.Equal("[redacted]", meta["ranWith"]!["api_key"]!.GetValue<string>());
        Assert.NotEqual(meta["originalDigest"]!.GetValue<string>(), meta["digest"]!.GetValue<string>());

        // T-100 was not cancelled.
        var tasks = await rig.Client.CallToolAsync("agentwork_list_tasks");
        Assert.Contains("\"Id\":\"T-100\",\"Title\":\"Nightly data export\",\"Status\":\"running\"", Assert.IsType<TextContentBlock>(tasks.Content[0]).Text);

        var audit = await rig.AuditAsync(id);
        var edited = Assert.Single(audit, a => a.Decision == "arguments_edited");
        Assert.Equal("console:admin", edited.Actor);
        Assert.Contains(meta["originalDigest"]!.GetValue<string>(), edited.Reason);
        Assert.Equal(meta["digest"]!.GetValue<string>(), edited.Digest);
        Assert.Single(audit, a => a.Decision == "executed");
        Assert.All(audit, a => Assert.DoesNotContain(GatewayHost.SampleApiKey, a.Reason ?? ""));

        var record = (await rig.Host.Get<GatewayStore>().GetApprovalAsync(id, CancellationToken.None))!;
        Assert.DoesNotContain(GatewayHost.SampleApiKey, record.EditedArguments);
        var decided = Assert.Single(await ConsoleApi.ListAsync(rig.Console, "all"));
        Assert.Contains("T-101", decided.GetProperty("editedArguments").GetString());
    }

    [Theory]
    [InlineData("""{"task_id": "T-102", "api_key": "[redacted]"}""", "policy denies")]
    [InlineData("""{"task_id": 101, "api_key": "[redacted]"}""", "inputSchema")]
    [InlineData("""{"task_id": "T-101"}""", "hidden value; it cannot be removed")]
    [InlineData("""{"task_id": "T-101", "api_key": "sk-another-key-123456"}""", "secret")]
    [InlineData("""{"task_id": "T-101", "api_key": "[redacted]", "note": "[redacted]"}""", "can only stand for a hidden value")]
    public async Task A_refused_edit_changes_nothing_and_says_why(string edit, string why)
    {
        await using var rig = await ConsoleRig.StartAsync(Policy);
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token, task: "T-100");
        var id = await rig.WaitForPendingIdAsync();

        var (response, body) = await ApproveAsync(rig.Console, id, edit);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains(why, body.GetProperty("message").GetString());
        Assert.Equal("Pending", (await ConsoleApi.ListAsync(rig.Console)).Single().GetProperty("status").GetString());
        Assert.False(call.IsCompleted);

        // Approving as asked still works.
        await ConsoleApi.DecideAsync(rig.Console, id.ToString(), approve: true);
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>((await call.WaitAsync(TimeSpan.FromSeconds(30))).Content[0]).Text);
    }

    [Fact]
    public async Task A_rule_that_is_not_editable_refuses_edits()
    {
        await using var rig = await ConsoleRig.StartAsync(Policy.Replace("\"timeout\": \"10m\"", "\"timeout\": \"10m\", \"editable\": false", StringComparison.Ordinal));
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token, task: "T-100");
        var id = await rig.WaitForPendingIdAsync();
        Assert.False((await ConsoleApi.ListAsync(rig.Console)).Single().GetProperty("editable").GetBoolean());

        var (response, body) = await ApproveAsync(rig.Console, id, Edit("T-101"));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("may not be edited", body.GetProperty("message").GetString());
        Assert.False(call.IsCompleted);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task Slack_edit_and_approve_opens_the_dialog_with_the_redacted_json_and_its_submission_runs_the_edit()
    {
        await using var rig = await SlackRig.StartAsync(policy: Policy);
        var call = rig.CallCancelTaskAsync(task: "T-100");
        var (id, card) = await rig.WaitForCardAsync();
        var ts = rig.CardTs(card);
        Assert.Contains(card.Blocks.Single(b => Type(b) == "actions")["elements"]!.AsArray(), b => b!["action_id"]!.GetValue<string>() == SlackActionIds.EditApprove);

        await rig.PostInteractionAsync(SlackTestRequests.BlockActions(SlackActionIds.EditApprove, id, Approver, ApproverName, Channel, ts, triggerId: "trigger-edit-1"));
        var open = await rig.Slack.WaitForCallAsync("views.open");
        var view = open.Json!["view"]!.AsObject();
        Assert.Equal(SlackActionIds.EditModal, view["callback_id"]!.GetValue<string>());
        var initial = view["blocks"]!.AsArray().Single(b => b!["block_id"]?.GetValue<string>() == SlackActionIds.ArgumentsBlock)!["element"]!["initial_value"]!.GetValue<string>();
        Assert.Contains("\"api_key\": \"[redacted]\"", initial);
        Assert.Contains("T-100", initial);

        // An invalid edit stays in the dialog with an error.
        var bad = await rig.PostInteractionAsync(EditSubmission(view["private_metadata"]!.GetValue<string>(), "{ not json", "V-EDIT-0"));
        Assert.Contains(SlackActionIds.ArgumentsBlock, await bad.Content.ReadAsStringAsync());
        Assert.False(call.IsCompleted);

        var submit = await rig.PostInteractionAsync(EditSubmission(view["private_metadata"]!.GetValue<string>(), initial.Replace("T-100", "T-101", StringComparison.Ordinal), "V-EDIT-1"));
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        Assert.DoesNotContain("errors", await submit.Content.ReadAsStringAsync());

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-101 (Rebuild search index) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var update = await rig.Slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id && c.Blocks.Any(b => b["block_id"]?.GetValue<string>() == SlackActionIds.EditedBlock));
        Assert.Contains("T-101", update.Body);
        rig.AssertNoSecretReachedSlack();
    }

    [Fact]
    public async Task Teams_edit_then_approve_runs_the_edit_from_the_cards_input()
    {
        await using var rig = await TeamsRig.StartAsync(policy: Policy);
        var call = rig.CallCancelTaskAsync(task: "T-100");
        var (id, created) = await rig.WaitForCardAsync();
        var showCard = created.Card!["actions"]!.AsArray().Single(a => a!["type"]!.GetValue<string>() == "Action.ShowCard")!;
        var input = showCard["card"]!["body"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "Input.Text")!;
        Assert.Contains("[redacted]", input["value"]!.GetValue<string>());

        var click = TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId, name: "Ada Approver");
        var data = click["value"]!["action"]!["data"]!.AsObject();
        data["edit"] = true;
        data["arguments"] = input["value"]!.GetValue<string>().Replace("T-100", "T-101", StringComparison.Ordinal);
        var (response, _) = await rig.PostActivityAsync(click);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("Task T-101 (Rebuild search index) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var put = await rig.WaitForFinalPutAsync(created, "changed arguments");
        Assert.Contains("T-101", put.Card!.ToJsonString());
        rig.AssertNoSecretReachedTeams();
    }

    private static JsonObject EditSubmission(string privateMetadata, string arguments, string viewId)
    {
        var payload = SlackTestRequests.DenyReasonSubmission(privateMetadata, "unused", Approver, ApproverName, viewId);
        var view = payload["view"]!.AsObject();
        view["callback_id"] = SlackActionIds.EditModal;
        view["state"] = new JsonObject
        {
            ["values"] = new JsonObject
            {
                [SlackActionIds.ArgumentsBlock] = new JsonObject
                {
                    [SlackActionIds.ArgumentsInput] = new JsonObject { ["type"] = "plain_text_input", ["value"] = arguments },
                },
            },
        };
        return payload;
    }

    private static async Task<(HttpResponseMessage Response, JsonElement Body)> ApproveAsync(HttpClient console, Guid id, string arguments)
    {
        var response = await console.PostAsJsonAsync($"/api/approvals/{id}/approve", new { arguments = JsonSerializer.Deserialize<JsonElement>(arguments) });
        return (response, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>The host with the console only (no chat fakes).</summary>
    private sealed class ConsoleRig : ChannelRig
    {
        private ConsoleRig(Started started)
            : base(started)
        {
        }

        public static async Task<ConsoleRig> StartAsync(string policy) =>
            new(await StartAsync(_ => Task.FromResult<IEnumerable<string>>([]), policy));
    }
}
