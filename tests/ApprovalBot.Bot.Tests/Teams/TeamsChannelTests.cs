using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>Posting, clicks, updates, retries and "policy status", against the fake Connector.</summary>
public sealed class TeamsChannelTests : TeamsHostedTests
{
    private static IEnumerable<JsonNode> Descendants(JsonNode? node)
    {
        if (node is null)
        {
            yield break;
        }

        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children)
        {
            foreach (var descendant in Descendants(child))
            {
                yield return descendant;
            }
        }
    }

    private static string AllText(JsonNode? card) => string.Join("\n", Descendants(card)
        .OfType<JsonObject>()
        .SelectMany(o => new[] { o["text"], o["value"], o["title"] })
        .OfType<JsonValue>()
        .Select(v => v.ToString()));

    private async Task<(ApprovalView View, ConnectorCall Create)> ShowAsync(IReadOnlyList<string>? approvers = null)
    {
        var view = Host.AddPending(approvers);
        await Host.Channel.ShowAsync(view, CancellationToken.None);
        var create = Assert.Single(Connector.Calls, c => c.Kind == "create" && c.Succeeded);
        return (view, create);
    }

    private static JsonObject InvokeCard(JsonNode? answer)
    {
        Assert.NotNull(answer);
        Assert.Equal(200, answer["statusCode"]!.GetValue<int>());
        Assert.Equal("application/vnd.microsoft.card.adaptive", answer["type"]!.GetValue<string>());
        return Assert.IsType<JsonObject>(answer["value"]);
    }

    [Fact]
    public async Task ShowAsync_posts_an_Adaptive_Card_1_5_into_the_channel_and_stores_the_reference()
    {
        var (view, create) = await ShowAsync();

        Assert.Equal("POST", create.Method);
        Assert.Equal("/teams/", create.ServicePath);
        Assert.True(create.Body!["isGroup"]!.GetValue<bool>());
        Assert.Equal(TeamsTestHost.ChannelId, create.Body["channelData"]!["channel"]!["id"]!.GetValue<string>());
        Assert.Equal(TeamsTestHost.TenantId, create.Body["channelData"]!["tenant"]!["id"]!.GetValue<string>());
        Assert.Equal("message", create.Activity!["type"]!.GetValue<string>());
        Assert.Equal("application/vnd.microsoft.card.adaptive", create.CardContentType);

        var card = create.Card!;
        Assert.Equal("AdaptiveCard", card["type"]!.GetValue<string>());
        Assert.Equal("1.5", card["version"]!.GetValue<string>());
        Assert.Equal("http://adaptivecards.io/schemas/adaptive-card.json", card["$schema"]!.GetValue<string>());

        var actions = card["actions"]!.AsArray().Select(a => a!.AsObject()).ToList();
        Assert.Equal(["approve", "deny", "withdraw"], actions.Select(a => a["verb"]!.GetValue<string>()));
        Assert.All(actions, a =>
        {
            Assert.Equal("Action.Execute", a["type"]!.GetValue<string>());
            Assert.Equal(view.Id.ToString(), a["data"]!["approvalId"]!.GetValue<string>());
            Assert.Equal("Action.Submit", a["fallback"]!["type"]!.GetValue<string>());
            Assert.Equal(a["verb"]!.GetValue<string>(), a["fallback"]!["data"]!["action"]!.GetValue<string>());
        });
        Assert.Contains(Descendants(card).OfType<JsonObject>(), o => (string?)o["type"] == "Input.Text" && (string?)o["id"] == "comment");

        var text = AllText(card);
        Assert.Contains("agentwork_cancel_task", text, StringComparison.Ordinal);
        Assert.Contains("agentwork", text, StringComparison.Ordinal);
        Assert.Contains("ci-bot", text, StringComparison.Ordinal);
        Assert.Contains("Cancels a running task; cannot be undone", text, StringComparison.Ordinal);
        Assert.Contains($"teams:{TeamsTestHost.ApproverAadId}", text, StringComparison.Ordinal);
        Assert.Contains(view.Id.ToString(), text, StringComparison.Ordinal);
        Assert.Contains(ApprovalBot.Bot.Teams.TeamsText.Time(view.Request.ExpiresAt), text, StringComparison.Ordinal);
        Assert.Contains("\"task_id\": \"T-1042\"", text, StringComparison.Ordinal);
        Assert.Contains("[redacted]", text, StringComparison.Ordinal);
        Assert.DoesNotContain(TeamsTestApprovals.RawSecret, create.Body.ToJsonString(), StringComparison.Ordinal);
        // Argument text is shown only in literal TextRuns, never in markdown-rendering TextBlocks or facts.
        Assert.DoesNotContain(Descendants(card).OfType<JsonObject>(), o => (string?)o["type"] == "TextBlock" && ((string?)o["text"])!.Contains("evil.example", StringComparison.Ordinal));
        Assert.Contains(Descendants(card).OfType<JsonObject>(), o => (string?)o["type"] == "TextRun" && ((string?)o["text"])!.Contains("[click](https://evil.example)", StringComparison.Ordinal));

        // The Connector call carried an MSAL client-credentials token from the fake token endpoint.
        var tokenRequest = Assert.Single(Connector.TokenRequests);
        Assert.True(tokenRequest.Granted);
        Assert.Equal(TeamsTestHost.TenantId, tokenRequest.Tenant);
        Assert.Equal("client_credentials", tokenRequest.Form["grant_type"]);
        Assert.Equal("https://api.botframework.com/.default", tokenRequest.Form["scope"]);
        Assert.StartsWith("Bearer fake-access-token-", create.Authorization, StringComparison.Ordinal);

        var reference = Assert.Single(await Host.CardReferences.GetAsync(view.Id, "teams", CancellationToken.None));
        var parts = reference.Split('|');
        Assert.Equal($"{TeamsTestHost.ChannelId};messageid={parts[1]}", parts[0]);
        Assert.Equal(Connector.ServiceUrl, parts[2]);
    }

    [Fact]
    public async Task The_token_is_cached_and_a_redelivered_request_is_not_posted_twice()
    {
        var (view, _) = await ShowAsync();
        await Host.Channel.ShowAsync(view, CancellationToken.None);
        var second = Host.AddPending();
        await Host.Channel.ShowAsync(second, CancellationToken.None);

        Assert.Equal(2, Connector.Calls.Count(c => c.Kind == "create"));
        Assert.Single(Connector.TokenRequests);
    }

    [Fact]
    public async Task Signed_approve_click_sends_one_decision_and_answers_with_the_final_card()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(TeamsActivities.Invoke(Connector.ServiceUrl, "approve", view.Id), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var card = InvokeCard(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Null(card["actions"]);
        Assert.Contains("Approved", AllText(card), StringComparison.Ordinal);
        Assert.Contains("Ada Approver", AllText(card), StringComparison.Ordinal);

        var command = Assert.Single(Host.Decisions.Commands);
        Assert.Equal(view.Id, command.ApprovalId);
        Assert.True(command.Approve);
        Assert.Equal("teams", command.Channel);
        Assert.Equal(new Approver("teams", TeamsTestHost.ApproverAadId, "Ada Approver", TeamsTestHost.TenantId), command.Approver);
        Assert.Null(command.Comment);
    }

    [Fact]
    public async Task Deny_with_a_comment_passes_the_comment_to_the_decision()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(
            TeamsActivities.Invoke(Connector.ServiceUrl, "deny", view.Id, comment: "  Task T-1042 is still needed by finance  "), Host.Token());

        var card = InvokeCard(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        var command = Assert.Single(Host.Decisions.Commands);
        Assert.False(command.Approve);
        Assert.Equal("Task T-1042 is still needed by finance", command.Comment);
        Assert.Contains("Denied", AllText(card), StringComparison.Ordinal);
        Assert.Contains("Task T-1042 is still needed by finance", AllText(card), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_click_after_the_decision_shows_who_decided()
    {
        var (view, _) = await ShowAsync(approvers: []);
        using var first = await Host.PostActivityAsync(TeamsActivities.Invoke(Connector.ServiceUrl, "approve", view.Id), Host.Token());
        using var second = await Host.PostActivityAsync(
            TeamsActivities.Invoke(Connector.ServiceUrl, "deny", view.Id, aadObjectId: TeamsTestHost.OtherAadId, name: "Bob"), Host.Token());

        var card = InvokeCard(JsonNode.Parse(await second.Content.ReadAsStringAsync()));
        Assert.Contains("Already approved by Ada Approver", AllText(card), StringComparison.Ordinal);
        Assert.Null(card["actions"]);
    }

    [Theory]
    [InlineData("other user", TeamsTestHost.OtherAadId, TeamsTestHost.TenantId, "not an approver")]
    [InlineData("wrong tenant", TeamsTestHost.ApproverAadId, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "different Microsoft Entra tenant")]
    [InlineData("no aadObjectId", null, TeamsTestHost.TenantId, "no Entra object id")]
    [InlineData("no tenant", TeamsTestHost.ApproverAadId, null, "different Microsoft Entra tenant")]
    public async Task Unauthorized_clicks_get_an_error_card_and_no_decision(string _, string? aadObjectId, string? tenantId, string expected)
    {
        var (view, _) = await ShowAsync();
        var callsBefore = Connector.Calls.Count;

        using var response = await Host.PostActivityAsync(
            TeamsActivities.Invoke(Connector.ServiceUrl, "approve", view.Id, aadObjectId: aadObjectId, tenantId: tenantId), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var card = InvokeCard(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Contains(expected, AllText(card), StringComparison.Ordinal);
        Assert.Null(card["actions"]);
        Assert.Empty(Host.Decisions.Commands);
        Assert.Equal(callsBefore, Connector.Calls.Count);
        Assert.Equal(ApprovalStatus.Pending, (await Host.ReadModel.GetAsync(view.Id, CancellationToken.None))!.Status);
        Assert.Contains(Host.Logs.Entries, e => e.EventName == "TeamsDecisionRefused");
    }

    [Fact]
    public async Task Click_on_an_unknown_approval_or_with_a_bad_verb_changes_nothing()
    {
        using var unknown = await Host.PostActivityAsync(TeamsActivities.Invoke(Connector.ServiceUrl, "approve", Guid.NewGuid()), Host.Token());
        Assert.Contains("Unknown approval", AllText(InvokeCard(JsonNode.Parse(await unknown.Content.ReadAsStringAsync()))), StringComparison.Ordinal);

        var view = Host.AddPending();
        using var bad = await Host.PostActivityAsync(TeamsActivities.Invoke(Connector.ServiceUrl, "delete", view.Id), Host.Token());
        var answer = JsonNode.Parse(await bad.Content.ReadAsStringAsync())!;
        Assert.Equal(400, answer["statusCode"]!.GetValue<int>());
        Assert.Equal("application/vnd.microsoft.error", answer["type"]!.GetValue<string>());
        Assert.Empty(Host.Decisions.Commands);
    }

    [Fact]
    public async Task Gateway_failure_is_answered_with_an_error_body()
    {
        var view = Host.AddPending();
        Host.Decisions.Respond = _ => throw new TimeoutException("bus request timed out");

        using var response = await Host.PostActivityAsync(TeamsActivities.Invoke(Connector.ServiceUrl, "approve", view.Id), Host.Token());

        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(500, answer["statusCode"]!.GetValue<int>());
        Assert.Equal("application/vnd.microsoft.error", answer["type"]!.GetValue<string>());
        Assert.Contains(Host.Logs.Entries, e => e.EventName == "TeamsDecisionFailed");
    }

    [Fact]
    public async Task Quorum_progress_keeps_the_buttons()
    {
        var view = Host.AddPending(approvalsRequired: 2);
        Host.Decisions.Respond = c => new ApprovalDecisionOutcome(c.ApprovalId, true, "Pending", "Approval 1 of 2 recorded; 1 more needed.");

        using var response = await Host.PostActivityAsync(TeamsActivities.Invoke(Connector.ServiceUrl, "approve", view.Id), Host.Token());

        var card = InvokeCard(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Equal(3, card["actions"]!.AsArray().Count);
        Assert.Contains("Approval 1 of 2 recorded", AllText(card), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Signed_withdraw_click_sends_a_withdraw_decision_and_answers_withdrawn_by_the_clicker()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(
            TeamsActivities.Invoke(Connector.ServiceUrl, "withdraw", view.Id, comment: "raised by mistake"), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var command = Assert.Single(Host.Decisions.Commands);
        Assert.Equal(view.Id, command.ApprovalId);
        Assert.True(command.Withdraw);
        Assert.False(command.Approve);
        Assert.Equal("teams", command.Channel);
        Assert.Equal("raised by mistake", command.Comment);
        Assert.Equal(new Approver("teams", TeamsTestHost.ApproverAadId, "Ada Approver", TeamsTestHost.TenantId), command.Approver);

        var card = InvokeCard(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Null(card["actions"]);
        Assert.Contains("Withdrawn by Ada Approver.", AllText(card), StringComparison.Ordinal);
        Assert.Equal(ApprovalStatus.Cancelled, (await Host.ReadModel.GetAsync(view.Id, CancellationToken.None))!.Status);
    }

    [Fact]
    public async Task Withdraw_from_a_non_approver_is_refused_like_approve_and_deny()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(
            TeamsActivities.Invoke(Connector.ServiceUrl, "withdraw", view.Id, aadObjectId: TeamsTestHost.OtherAadId, name: "Mallory"), Host.Token());

        var card = InvokeCard(JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Contains("Mallory is not an approver", AllText(card), StringComparison.Ordinal);
        Assert.Empty(Host.Decisions.Commands);
        Assert.Equal(ApprovalStatus.Pending, (await Host.ReadModel.GetAsync(view.Id, CancellationToken.None))!.Status);
        Assert.Contains(Host.Logs.Entries, e => e.EventName == "TeamsDecisionRefused" && e.Message.Contains("withdraw", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unsigned_withdraw_changes_nothing()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(TeamsActivities.Invoke(Connector.ServiceUrl, "withdraw", view.Id), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(Host.Decisions.Commands);
    }

    [Fact]
    public async Task Action_Submit_withdraw_from_an_old_client_withdraws_too()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(TeamsActivities.Submit(Connector.ServiceUrl, "withdraw", view.Id), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var command = Assert.Single(Host.Decisions.Commands);
        Assert.True(command.Withdraw);
        var reply = await Connector.WaitForCallAsync(c => c.Kind == "send");
        Assert.Contains("Withdrawn by Ada Approver", reply.Body!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_card_that_went_stale_while_it_was_posted_is_put_again_with_the_current_state()
    {
        var view = Host.AddPending();
        // The agent's call was handed back (ApprovalWaiting false) while the card was on its way.
        Host.ReadModel.Put(view with { AgentWaiting = false });

        await Host.Channel.ShowAsync(view, CancellationToken.None);

        var create = Assert.Single(Connector.Calls, c => c.Kind == "create");
        Assert.Contains(ApprovalBot.Bot.Approvals.ApprovalText.AgentWaiting, AllText(create.Card), StringComparison.Ordinal);
        var put = Assert.Single(Connector.Calls, c => c.Kind == "update");
        var text = AllText(put.Card);
        Assert.Contains("The agent will collect this on its next call", text, StringComparison.Ordinal);
        Assert.Equal(3, put.Card!["actions"]!.AsArray().Count);
    }

    [Fact]
    public async Task UpdateAsync_of_a_lapsed_approval_puts_a_card_saying_nothing_ran()
    {
        var (view, _) = await ShowAsync();
        var ada = new Approver("teams", TeamsTestHost.ApproverAadId, "Ada Approver", TeamsTestHost.TenantId);

        await Host.Channel.UpdateAsync(
            view with { Status = ApprovalStatus.Lapsed, DecidedBy = ada, ResolvedAt = DateTimeOffset.UtcNow, CollectBy = DateTimeOffset.UtcNow },
            CancellationToken.None);

        var put = Assert.Single(Connector.Calls, c => c.Kind == "update");
        Assert.Null(put.Card!["actions"]);
        Assert.Contains("Approved by Ada Approver; the agent never came back for it — nothing ran.", AllText(put.Card), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Action_Submit_fallback_is_decided_too_and_answered_in_the_thread()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(
            TeamsActivities.Submit(Connector.ServiceUrl, "deny", view.Id, comment: "not during the freeze"), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var command = Assert.Single(Host.Decisions.Commands);
        Assert.False(command.Approve);
        Assert.Equal("not during the freeze", command.Comment);
        var reply = await Connector.WaitForCallAsync(c => c.Kind == "send");
        Assert.Contains("Denied by Ada Approver", reply.Body!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Action_Submit_from_a_non_approver_is_refused()
    {
        var (view, _) = await ShowAsync();

        using var response = await Host.PostActivityAsync(
            TeamsActivities.Submit(Connector.ServiceUrl, "approve", view.Id, aadObjectId: TeamsTestHost.OtherAadId), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(Host.Decisions.Commands);
        var reply = await Connector.WaitForCallAsync(c => c.Kind == "send");
        Assert.Contains("not an approver", reply.Body!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateAsync_puts_the_final_card_on_the_stored_activity()
    {
        var (view, create) = await ShowAsync();
        var reference = Assert.Single(await Host.CardReferences.GetAsync(view.Id, "teams", CancellationToken.None)).Split('|');
        var resolved = view with
        {
            Status = ApprovalStatus.Denied,
            DecidedBy = new Approver("slack", "U024BE7LH", "sam"),
            Comment = "use the AWX UI",
            ResolvedAt = DateTimeOffset.UtcNow,
        };

        await Host.Channel.UpdateAsync(resolved, CancellationToken.None);

        var put = Assert.Single(Connector.Calls, c => c.Method == "PUT");
        Assert.Equal(reference[0], put.ConversationId);
        Assert.Equal(reference[1], put.ActivityId);
        Assert.Contains("%3A", put.RawTarget, StringComparison.Ordinal); // the conversation id is escaped in the path
        Assert.Contains("%3B", put.RawTarget, StringComparison.Ordinal);
        Assert.Equal(reference[1], put.Body!["id"]!.GetValue<string>());
        Assert.Equal("application/vnd.microsoft.card.adaptive", put.CardContentType);
        Assert.Null(put.Card!["actions"]);
        var text = AllText(put.Card);
        Assert.Contains("Denied", text, StringComparison.Ordinal);
        Assert.Contains("sam (slack)", text, StringComparison.Ordinal);
        Assert.Contains("use the AWX UI", text, StringComparison.Ordinal);
        Assert.DoesNotContain(TeamsTestApprovals.RawSecret, put.Body.ToJsonString(), StringComparison.Ordinal);
        _ = create;
    }

    [Fact]
    public async Task ExecutedAsync_updates_the_card_and_replies_in_the_thread()
    {
        var (view, _) = await ShowAsync();
        var executed = view with
        {
            Status = ApprovalStatus.Executed,
            DecidedBy = new Approver("teams", TeamsTestHost.ApproverAadId, "Ada Approver", TeamsTestHost.TenantId),
            ResolvedAt = DateTimeOffset.UtcNow,
            Succeeded = true,
            ExecutionSummary = "Task T-1042 cancelled.",
        };

        await Host.Channel.ExecutedAsync(executed, CancellationToken.None);

        var put = Assert.Single(Connector.Calls, c => c.Kind == "update");
        Assert.Contains("executed", AllText(put.Card), StringComparison.Ordinal);
        var reply = Assert.Single(Connector.Calls, c => c.Kind == "send");
        Assert.Contains("Task T-1042 cancelled.", reply.Body!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(put.ActivityId, reply.Body["replyToId"]!.GetValue<string>());
        Assert.Equal(put.ConversationId, reply.ConversationId);
    }

    [Fact]
    public async Task A_429_is_retried_after_Retry_After_and_then_succeeds()
    {
        Connector.FailNext(429, times: 1, retryAfter: TimeSpan.Zero);

        var (view, create) = await ShowAsync();

        var creates = Connector.Calls.Where(c => c.Kind == "create").ToList();
        Assert.Equal([429, 201], creates.Select(c => c.StatusCode));
        Assert.Single(await Host.CardReferences.GetAsync(view.Id, "teams", CancellationToken.None));
        Assert.Contains(Host.Logs.Entries, e => e.EventName == "TeamsConnectorRetry");
        _ = create;
    }

    [Fact]
    public async Task A_502_on_an_update_is_retried_with_back_off_but_a_502_on_a_post_is_not()
    {
        var (view, _) = await ShowAsync();
        Connector.FailNext(502);
        await Host.Channel.UpdateAsync(view with { Status = ApprovalStatus.Expired, ResolvedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        Assert.Equal([502, 200], Connector.Calls.Where(c => c.Kind == "update").Select(c => c.StatusCode));

        Connector.FailNext(502);
        var other = Host.AddPending();
        await Host.Channel.ShowAsync(other, CancellationToken.None); // the post may have landed: never posted blindly twice
        Assert.Single(Connector.Calls, c => c.Kind == "create" && c.StatusCode == 502);
        Assert.Empty(await Host.CardReferences.GetAsync(other.Id, "teams", CancellationToken.None));
        Assert.Contains(Host.Logs.Entries, e => e.EventName == "TeamsPostFailed");
    }

    [Fact]
    public async Task MessageWritesBlocked_is_logged_clearly()
    {
        Connector.FailNext(403, errorCode: "MessageWritesBlocked");

        await Host.Channel.ShowAsync(Host.AddPending(), CancellationToken.None);

        Assert.Single(Connector.Calls, c => c.Kind == "create");
        var entry = Assert.Single(Host.Logs.Entries, e => e.EventName == "TeamsWritesBlocked");
        Assert.Contains("MessageWritesBlocked", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_app_password_is_logged_and_nothing_reaches_the_Connector()
    {
        await using var host = await TeamsTestHost.StartAsync(Auth, Connector, configure: s => s["AppPassword"] = "wrong-secret");

        await host.Channel.ShowAsync(host.AddPending(), CancellationToken.None);

        Assert.Empty(Connector.Calls);
        Assert.NotEmpty(Connector.TokenRequests);
        Assert.All(Connector.TokenRequests, r => Assert.False(r.Granted));
        var failure = Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsPostFailed");
        Assert.DoesNotContain("wrong-secret", failure.Message + failure.Exception, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_status_message_gets_a_status_card_reply()
    {
        var now = DateTimeOffset.UtcNow;
        var pending = Host.AddPending();
        Host.Status.Snapshot = new StatusSnapshot(
            [
                new GatewayStatus(
                    new GatewayHeartbeat("gateway-1", "1.4.2", "deny by default; 7 rules", "deny", 7, now.AddHours(-3),
                        [new UpstreamHealth("agentwork", true, 6, null), new UpstreamHealth("awx", false, 0, "connection refused")],
                        1, new DecisionCounts(120, 4, 2, 3), now.AddSeconds(-4)),
                    now.AddSeconds(-4),
                    true),
            ],
            [pending],
            1,
            new TodayCounts(3, 1, 0, 0, 120, 4),
            now);

        var activity = TeamsActivities.Message(Connector.ServiceUrl, "<at>ApprovalBot</at>&nbsp;Policy  Status\n");
        using var response = await Host.PostActivityAsync(activity, Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var reply = Assert.Single(Connector.Calls);
        Assert.Equal("send", reply.Kind);
        Assert.Equal(activity["conversation"]!["id"]!.GetValue<string>(), reply.ConversationId);
        Assert.Equal(activity["id"]!.GetValue<string>(), reply.Body!["replyToId"]!.GetValue<string>());
        Assert.Equal("application/vnd.microsoft.card.adaptive", reply.CardContentType);
        var text = AllText(reply.Card);
        Assert.Contains("ApprovalBot status", text, StringComparison.Ordinal);
        Assert.Contains("gateway-1", text, StringComparison.Ordinal);
        Assert.Contains("default deny, 7 rules", text, StringComparison.Ordinal);
        Assert.Contains("awx (connection refused)", text, StringComparison.Ordinal);
        Assert.Contains("agentwork_cancel_task", text, StringComparison.Ordinal);
        Assert.Contains("Pending approvals (1)", text, StringComparison.Ordinal);
        Assert.Equal(10, Host.Status.LastPendingLimit);
    }

    [Theory]
    [InlineData("policy pending", "Pending approvals")]
    [InlineData("help", "policy status")]
    [InlineData("what can you do?", "policy status")]
    public async Task Other_commands_are_answered(string text, string expected)
    {
        using var response = await Host.PostActivityAsync(TeamsActivities.Message(Connector.ServiceUrl, "<at>ApprovalBot</at> " + text), Host.Token());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await Connector.WaitForCallAsync(c => c.Kind == "send");
        Assert.Contains(expected, AllText(reply.Card), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Installation_stores_the_conversation_reference_and_posting_uses_it()
    {
        var regional = Connector.RegionalServiceUrl("emea");
        await using var host = await TeamsTestHost.StartAsync(Auth, Connector, configure: s => s["ChannelId"] = "");

        await host.Channel.ShowAsync(host.AddPending(), CancellationToken.None);
        Assert.Contains(host.Logs.Entries, e => e.EventName == "TeamsNoChannel");
        Assert.Empty(Connector.Calls);

        using var response = await host.PostActivityAsync(
            TeamsActivities.Installed(regional, channelId: "19:general0a1b@thread.tacv2"), Auth.CreateToken(TeamsTestHost.AppId, regional));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(regional, host.CardReferences.Settings["teams:serviceUrl"]);
        Assert.Equal(TeamsTestHost.TenantId, host.CardReferences.Settings["teams:tenantId"]);
        Assert.Equal("19:team0a1b2c3d@thread.tacv2", host.CardReferences.Settings["teams:teamId"]);
        Assert.Equal("19:general0a1b@thread.tacv2", host.CardReferences.Settings["teams:channelId"]);

        var view = host.AddPending();
        await host.Channel.ShowAsync(view, CancellationToken.None);
        var create = Assert.Single(Connector.Calls, c => c.Kind == "create");
        Assert.Equal("/emea/", create.ServicePath);
        Assert.Equal("19:general0a1b@thread.tacv2", create.Body!["channelData"]!["channel"]!["id"]!.GetValue<string>());
        Assert.EndsWith("|" + regional, Assert.Single(await host.CardReferences.GetAsync(view.Id, "teams", CancellationToken.None)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Activities_from_another_tenant_are_not_remembered()
    {
        var regional = Connector.RegionalServiceUrl("evil");
        using var response = await Host.PostActivityAsync(
            TeamsActivities.Installed(regional, tenantId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"), Auth.CreateToken(TeamsTestHost.AppId, regional));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(Host.CardReferences.Settings);
        Assert.Contains(Host.Logs.Entries, e => e.EventName == "TeamsForeignTenant");
    }

    [Fact]
    public void Card_reference_and_command_parsing()
    {
        Assert.Equal("policy status", ApprovalBot.Bot.Teams.TeamsCommandHandler.NormalizeCommand("<at>Approval Bot</at> <p>Policy&nbsp;STATUS</p>"));
        Assert.Equal("status", ApprovalBot.Bot.Teams.TeamsCommandHandler.NormalizeCommand("  /status "));
        Assert.Equal("", ApprovalBot.Bot.Teams.TeamsCommandHandler.NormalizeCommand("<at>ApprovalBot</at>"));
        Assert.True(ApprovalBot.Bot.Teams.TeamsCardReference.TryParse("19:a@thread.tacv2;messageid=1|1|https://smba.trafficmanager.net/emea/x|y/", out var reference));
        Assert.Equal("https://smba.trafficmanager.net/emea/x|y/", reference.ServiceUrl);
        Assert.False(ApprovalBot.Bot.Teams.TeamsCardReference.TryParse("only|two", out _));
    }

    [Fact]
    public void Huge_arguments_keep_the_activity_well_under_40_KB()
    {
        var arguments = new JsonObject();
        for (var i = 0; i < 2000; i++)
        {
            arguments[$"field_{i}"] = new string('x', 200);
        }

        var view = TeamsTestApprovals.Pending(DateTimeOffset.UtcNow, arguments: arguments.ToJsonString());
        var activity = ApprovalBot.Bot.Teams.TeamsText.Activity(ApprovalBot.Bot.Teams.TeamsCard.Approval(view, DateTimeOffset.UtcNow));
        var size = System.Text.Encoding.UTF8.GetByteCount(activity.ToJsonString());

        Assert.True(size < 28 * 1024, $"activity is {size} bytes");
        Assert.Contains("shortened", activity.ToJsonString(), StringComparison.Ordinal);
        _ = JsonDocument.Parse(activity.ToJsonString());
    }
}
