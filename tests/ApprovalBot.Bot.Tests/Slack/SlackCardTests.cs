using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>The card posted through the real Web API client to the fake Slack.</summary>
public sealed class SlackCardTests : SlackHostTestBase
{
    private const string RawSecret = "sk-live-4f9a8b7c6d5e4f3a2b1c";

    [Fact]
    public async Task Card_is_posted_with_the_right_blocks_and_no_secret()
    {
        // The arguments as the agent sent them, through the gateway's own redaction (as ApprovalRequested carries them).
        var sent = System.Text.Json.JsonDocument.Parse($$"""{"task_id":"T-42","api_key":"{{RawSecret}}","note":"a < b & c"}""").RootElement;
        var approval = TestApprovals.Pending(redactedArguments: new ApprovalBot.Core.Redaction.SecretRedactor().RedactToJson(sent));
        Bot.ReadModel.Put(approval);

        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        var call = Assert.Single(Slack.CallsTo("chat.postMessage"));
        Assert.True(call.Succeeded);
        Assert.Equal($"Bearer {SlackBotHost.BotToken}", call.Authorization);
        Assert.Equal("application/json; charset=utf-8", call.ContentType);
        Assert.Equal(SlackBotHost.ChannelId, call.Get("channel"));
        Assert.Contains(TestApprovals.Tool, call.Get("text"));

        var blocks = call.Json!["blocks"]!.AsArray();
        Assert.Equal(["header", "section", "section", "section", "section", "context", "section", "actions"], blocks.Select(b => b!["type"]!.GetValue<string>()));
        SlackBlockKit.AssertValid(blocks);
        Assert.Contains(TestApprovals.Tool, blocks[0]!["text"]!["text"]!.GetValue<string>());

        var fields = string.Join("\n", blocks[1]!["fields"]!.AsArray().Select(f => f!["text"]!.GetValue<string>()));
        Assert.Contains(TestApprovals.Tool, fields);
        Assert.Contains("agentwork", fields);
        Assert.Contains("ci-bot", fields);
        Assert.Matches(@"<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+>", fields);

        Assert.Contains("Cancels a running task; cannot be undone", SectionText(blocks[2]));

        var arguments = SectionText(blocks[3]);
        Assert.Contains("```", arguments);
        Assert.Contains("\"task_id\": \"T-42\"", arguments);
        Assert.Contains("\"api_key\": \"[redacted]\"", arguments);
        Assert.Contains("a &lt; b &amp; c", arguments);

        var approvers = SectionText(blocks[4]);
        Assert.Contains($"<@{TestApprovals.Approver}>", approvers);
        Assert.Contains("teams:0f5c1d2e-aad", approvers);
        Assert.Contains(approval.Id.ToString(), blocks[5]!["elements"]![0]!["text"]!.GetValue<string>());

        Assert.Equal(SlackActionIds.WaitingBlock, blocks[6]!["block_id"]!.GetValue<string>());
        Assert.StartsWith(":hourglass_flowing_sand: *Agent waiting*", SectionText(blocks[6]), StringComparison.Ordinal);

        var buttons = blocks[7]!["elements"]!.AsArray();
        Assert.Equal([SlackActionIds.Approve, SlackActionIds.Deny, SlackActionIds.DenyWithReason, SlackActionIds.Withdraw], buttons.Select(b => b!["action_id"]!.GetValue<string>()));
        Assert.All(buttons, b => Assert.Equal("button", b!["type"]!.GetValue<string>()));
        Assert.All(buttons, b => Assert.Equal(approval.Id.ToString(), b!["value"]!.GetValue<string>()));
        Assert.Equal("primary", buttons[0]!["style"]!.GetValue<string>());
        Assert.Equal("danger", buttons[1]!["style"]!.GetValue<string>());
        Assert.Null(buttons[2]!["style"]);
        var confirm = buttons[0]!["confirm"]!;
        Assert.Equal("Approve this call?", confirm["title"]!["text"]!.GetValue<string>());
        Assert.Equal("Approve", confirm["confirm"]!["text"]!.GetValue<string>());
        Assert.Equal("Cancel", confirm["deny"]!["text"]!.GetValue<string>());
        Assert.InRange(confirm["text"]!["text"]!.GetValue<string>().Length, 1, 300);
        Assert.Null(buttons[1]!["confirm"]);
        Assert.Null(buttons[3]!["style"]);
        Assert.Equal("Withdraw", buttons[3]!["text"]!["text"]!.GetValue<string>());
        Assert.Equal("Withdraw this request?", buttons[3]!["confirm"]!["title"]!["text"]!.GetValue<string>());
        Assert.Equal(approval.Id, call.ApprovalId);
        Assert.True(call.HasActionsBlock);

        // Redaction: the raw secret the agent sent does not reach Slack; the mask is shown for api_key.
        Assert.DoesNotContain(RawSecret, call.Body, StringComparison.Ordinal);
        Assert.DoesNotContain(SlackBotHost.BotToken, call.Body, StringComparison.Ordinal);

        var reference = Assert.Single(await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None));
        Assert.Matches(@"^C0APPROVALS\|\d+\.\d+$", reference);
    }

    [Fact]
    public async Task Showing_the_same_approval_twice_posts_one_card()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        Assert.Single(Slack.CallsTo("chat.postMessage"));
    }

    [Fact]
    public async Task Empty_approver_list_reads_any_member_and_quorum_is_shown()
    {
        var approval = TestApprovals.Pending(approvers: [], approvalsRequired: 2);
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        var blocks = Slack.CallsTo("chat.postMessage")[0].Json!["blocks"]!.AsArray();
        var approvers = SectionText(blocks[4]);
        Assert.Contains("Any member", approvers);
        Assert.Contains("2 approvals are needed", approvers);
    }

    [Fact]
    public async Task Huge_arguments_are_truncated_within_block_kit_limits()
    {
        var big = new JsonObject();
        for (var i = 0; i < 400; i++)
        {
            big[$"field_{i}"] = new string('x', 100) + "<&>";
        }

        var approval = TestApprovals.Pending(redactedArguments: big.ToJsonString(), reason: new string('r', 5000));
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        var call = Assert.Single(Slack.CallsTo("chat.postMessage"));
        var blocks = call.Json!["blocks"]!.AsArray();
        Assert.True(blocks.Count <= 50);
        foreach (var block in blocks)
        {
            if (block!["text"]?["text"]?.GetValue<string>() is { } text)
            {
                Assert.True(text.Length <= 3000, $"section text of {text.Length} characters");
            }
        }

        Assert.Contains("truncated", SectionText(blocks[3]));
        Assert.True(blocks.ToJsonString().Length < 10_000, $"blocks of {blocks.ToJsonString().Length} characters");
    }

    [Theory]
    [InlineData(ApprovalStatus.Approved, ":white_check_mark: *Approved* by <@U024BE7LH>")]
    [InlineData(ApprovalStatus.Denied, ":no_entry: *Denied* by <@U024BE7LH>")]
    [InlineData(ApprovalStatus.Expired, ":hourglass: *Expired*")]
    [InlineData(ApprovalStatus.Cancelled, ":heavy_multiplication_x: *Cancelled*")]
    public async Task Update_replaces_the_card_without_buttons(ApprovalStatus status, string outcome)
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        var posted = Slack.CallsTo("chat.postMessage")[0];
        var ts = (await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None))[0].Split('|')[1];

        var decided = status is ApprovalStatus.Approved or ApprovalStatus.Denied;
        var resolved = approval with
        {
            Status = status,
            DecidedBy = decided ? new Approver("slack", TestApprovals.Approver, "alice", SlackTestRequests.TeamId) : null,
            Comment = status == ApprovalStatus.Denied ? "Not during the release freeze" : null,
            ResolvedAt = DateTimeOffset.UtcNow,
        };
        await Bot.Channel.UpdateAsync(resolved, CancellationToken.None);

        var update = Assert.Single(Slack.CallsTo("chat.update"));
        Assert.True(update.Succeeded);
        Assert.Equal(posted.Get("channel"), update.Get("channel"));
        Assert.Equal(ts, update.Get("ts"));
        var blocks = update.Json!["blocks"]!.AsArray();
        Assert.DoesNotContain(blocks, b => b!["type"]!.GetValue<string>() == "actions");
        Assert.False(update.HasActionsBlock);
        Assert.Equal(approval.Id, update.ApprovalId);
        Assert.DoesNotContain(SlackActionIds.Approve, update.Body, StringComparison.Ordinal);
        var outcomeText = SectionText(blocks[^1]);
        Assert.StartsWith(outcome, outcomeText, StringComparison.Ordinal);
        Assert.Contains("<!date^", outcomeText);
        if (status == ApprovalStatus.Denied)
        {
            Assert.Contains("Not during the release freeze", outcomeText);
        }

        // The details stay on the card.
        Assert.Contains(TestApprovals.Tool, blocks[0]!["text"]!["text"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pending_update_with_partial_quorum_keeps_the_buttons_and_shows_progress()
    {
        var approval = TestApprovals.Pending(approvalsRequired: 2);
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        await Bot.Channel.UpdateAsync(approval with { DecidedBy = new Approver("slack", TestApprovals.Approver, "alice") }, CancellationToken.None);

        var blocks = Assert.Single(Slack.CallsTo("chat.update")).Json!["blocks"]!.AsArray();
        Assert.Equal("actions", blocks[^1]!["type"]!.GetValue<string>());
        Assert.Contains(blocks, b => b!["block_id"]?.GetValue<string>() == "approvalbot_progress" && SectionText(b).Contains($"<@{TestApprovals.Approver}>", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_reaches_every_stored_card()
    {
        var approval = TestApprovals.Pending();
        await Bot.Cards.SaveAsync(approval.Id, "slack", "C0FIRST|1700000000.000001", CancellationToken.None);
        await Bot.Cards.SaveAsync(approval.Id, "slack", "C0SECOND|1700000000.000002", CancellationToken.None);
        await Bot.Channel.UpdateAsync(approval with { Status = ApprovalStatus.Expired, ResolvedAt = DateTimeOffset.UtcNow }, CancellationToken.None);

        var updates = Slack.CallsTo("chat.update");
        Assert.Equal(["C0FIRST", "C0SECOND"], updates.Select(u => u.Get("channel")!).Order());
    }

    [Fact]
    public async Task Card_decided_while_it_was_being_posted_is_updated_at_once()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval with { Status = ApprovalStatus.Denied, DecidedBy = new Approver("console", "admin", "admin"), ResolvedAt = DateTimeOffset.UtcNow });

        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        var update = Assert.Single(Slack.CallsTo("chat.update"));
        Assert.DoesNotContain(update.Json!["blocks"]!.AsArray(), b => b!["type"]!.GetValue<string>() == "actions");
        Assert.Contains("*Denied* by admin (console)", update.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, null, "Executed: succeeded")]
    [InlineData(false, "upstream error: task T-42 is already finished", "Execution failed: upstream error: task T-42 is already finished")]
    public async Task Execution_result_is_a_thread_reply(bool succeeded, string? summary, string expected)
    {
        var approval = TestApprovals.Pending();
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        var ts = (await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None))[0].Split('|')[1];

        await Bot.Channel.ExecutedAsync(approval with
        {
            Status = succeeded ? ApprovalStatus.Executed : ApprovalStatus.ExecutionFailed,
            Succeeded = succeeded,
            ExecutionSummary = summary,
        }, CancellationToken.None);

        var reply = Slack.CallsTo("chat.postMessage")[1];
        Assert.Equal(ts, reply.Get("thread_ts"));
        Assert.Equal(SlackBotHost.ChannelId, reply.Get("channel"));
        Assert.Equal(expected, reply.Get("text"));
    }

    [Fact]
    public async Task Rate_limited_post_is_retried_after_Retry_After()
    {
        Slack.RateLimitNext("chat.postMessage", retryAfterSeconds: 1);
        var approval = TestApprovals.Pending();

        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        var calls = Slack.CallsTo("chat.postMessage");
        Assert.Equal([429, 200], calls.Select(c => c.StatusCode));
        Assert.True(calls[1].ReceivedAt - calls[0].ReceivedAt >= TimeSpan.FromMilliseconds(900), "the retry waited for Retry-After");
        Assert.Single(await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None));
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackRateLimited");
    }

    [Fact]
    public async Task Ok_false_is_logged_with_the_error_code_and_never_thrown()
    {
        Slack.FailNext("chat.postMessage", "channel_not_found");
        var approval = TestApprovals.Pending();

        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        Assert.Single(Slack.CallsTo("chat.postMessage"));
        Assert.Empty(await Bot.Cards.GetAsync(approval.Id, "slack", CancellationToken.None));
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackApiError" && l.Message.Contains("channel_not_found", StringComparison.Ordinal));
        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackCardPostFailed" && l.Message.Contains(approval.Id.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(Bot.Logs.Lines, l => l.Message.Contains(SlackBotHost.BotToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ok_false_on_update_is_logged_and_never_thrown()
    {
        var approval = TestApprovals.Pending();
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        Slack.FailNext("chat.update", "message_not_found");

        await Bot.Channel.UpdateAsync(approval with { Status = ApprovalStatus.Expired }, CancellationToken.None);

        Assert.Contains(Bot.Logs.Lines, l => l.EventId.Name == "SlackCardUpdateFailed" && l.Message.Contains("message_not_found", StringComparison.Ordinal));
    }

    private static string SectionText(JsonNode? block) => block!["text"]!["text"]!.GetValue<string>();
}
