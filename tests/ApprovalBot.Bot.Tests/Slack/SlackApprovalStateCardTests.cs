using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>
/// What the Slack card says while the agent waits, after its call was handed back, once approved
/// with nobody waiting, after it lapsed and after a withdrawal; every card within Block Kit's limits.
/// </summary>
public sealed class SlackApprovalStateCardTests : SlackHostTestBase
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly Approver Alice = new("slack", TestApprovals.Approver, "alice", SlackTestRequests.TeamId);

    private static ApprovalView Pending() => TestApprovals.Pending(requestedAt: Now.AddMinutes(-2));

    private static ApprovalView AwaitingCollection() => Pending() with
    {
        Status = ApprovalStatus.Approved,
        DecidedBy = Alice,
        ResolvedAt = Now,
        AgentWaiting = false,
        CollectBy = new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero),
    };

    private static JsonArray Blocks(ApprovalView view)
    {
        var blocks = SlackCard.Blocks(view, Now);
        SlackBlockKit.AssertValid(blocks);
        return blocks;
    }

    private static string? BlockText(JsonArray blocks, string blockId) =>
        blocks.SingleOrDefault(b => (string?)b!["block_id"] == blockId)?["text"]?["text"]?.GetValue<string>();

    private static bool HasButtons(JsonArray blocks) => blocks.Any(b => (string?)b!["type"] == "actions");

    private static string Header(JsonArray blocks) => blocks[0]!["text"]!["text"]!.GetValue<string>();

    [Fact]
    public void Pending_with_the_agent_waiting_says_so_above_the_buttons()
    {
        var blocks = Blocks(Pending());

        Assert.Equal(":hourglass_flowing_sand: *Agent waiting*: the call runs as soon as it is approved.", BlockText(blocks, SlackActionIds.WaitingBlock));
        Assert.True(HasButtons(blocks));
        Assert.Equal("actions", blocks[^1]!["type"]!.GetValue<string>());
        Assert.Equal(SlackActionIds.WaitingBlock, (string?)blocks[^2]!["block_id"]);
    }

    [Fact]
    public void Pending_with_the_call_handed_back_says_the_agent_collects_it_on_its_next_call()
    {
        var blocks = Blocks(Pending() with { AgentWaiting = false });

        Assert.Equal(":inbox_tray: *The agent will collect this on its next call*: nothing runs until it calls again.", BlockText(blocks, SlackActionIds.WaitingBlock));
        Assert.True(HasButtons(blocks));
    }

    [Fact]
    public void Approved_while_nobody_waits_says_it_runs_when_the_agent_calls_again_until_HH_MM()
    {
        var blocks = Blocks(AwaitingCollection());

        Assert.Equal($":white_check_mark: *Approved* by <@{TestApprovals.Approver}> — runs when the agent calls again (until 10:00 UTC).", BlockText(blocks, SlackActionIds.OutcomeBlock));
        Assert.Null(BlockText(blocks, SlackActionIds.WaitingBlock));
        Assert.False(HasButtons(blocks));
        Assert.Equal($"Approved: {TestApprovals.Tool}", Header(blocks));

        var tomorrow = Blocks(AwaitingCollection() with { CollectBy = new DateTimeOffset(2025, 6, 3, 0, 15, 0, TimeSpan.Zero) });
        Assert.EndsWith("(until 2025-06-03 00:15 UTC).", BlockText(tomorrow, SlackActionIds.OutcomeBlock), StringComparison.Ordinal);
    }

    [Fact]
    public void Collected_and_run_no_longer_says_it_waits_for_the_agent()
    {
        var blocks = Blocks(AwaitingCollection() with { Succeeded = true });

        var outcome = BlockText(blocks, SlackActionIds.OutcomeBlock)!;
        Assert.StartsWith($":white_check_mark: *Approved* by <@{TestApprovals.Approver}>", outcome, StringComparison.Ordinal);
        Assert.EndsWith("Executed: succeeded.", outcome, StringComparison.Ordinal);
        Assert.DoesNotContain("calls again", outcome, StringComparison.Ordinal);
    }

    [Fact]
    public void Lapsed_says_approved_by_whom_and_that_nothing_ran()
    {
        var blocks = Blocks(AwaitingCollection() with { Status = ApprovalStatus.Lapsed });

        Assert.Equal($":zzz: *Approved* by <@{TestApprovals.Approver}>; the agent never came back for it — nothing ran.", BlockText(blocks, SlackActionIds.OutcomeBlock));
        Assert.Equal($"Lapsed: {TestApprovals.Tool}", Header(blocks));
        Assert.False(HasButtons(blocks));
        Assert.StartsWith("Lapsed:", SlackCard.FallbackText(AwaitingCollection() with { Status = ApprovalStatus.Lapsed }), StringComparison.Ordinal);
    }

    [Fact]
    public void Withdrawn_says_by_whom_with_the_comment()
    {
        var view = Pending() with { Status = ApprovalStatus.Cancelled, DecidedBy = new Approver("console", "admin", "console admin"), Comment = "raised <by> mistake", ResolvedAt = Now };

        var blocks = Blocks(view);

        var outcome = BlockText(blocks, SlackActionIds.OutcomeBlock)!;
        Assert.StartsWith(":heavy_multiplication_x: *Withdrawn* by console admin (console) on <!date^", outcome, StringComparison.Ordinal);
        Assert.Contains("*Comment:* raised &lt;by&gt; mistake", outcome, StringComparison.Ordinal);
        Assert.Equal($"Withdrawn: {TestApprovals.Tool}", Header(blocks));
        Assert.False(HasButtons(blocks));

        // Without a person it was the agent itself (tasks/cancel).
        Assert.StartsWith(":heavy_multiplication_x: *Cancelled*", BlockText(Blocks(view with { DecidedBy = null, Comment = null }), SlackActionIds.OutcomeBlock), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_card_that_went_stale_while_it_was_posted_is_updated_at_once()
    {
        var approval = TestApprovals.Pending();
        // The agent's call was handed back (ApprovalWaiting false) while the card was on its way.
        Bot.ReadModel.Put(approval with { AgentWaiting = false });

        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        var posted = Assert.Single(Slack.CallsTo("chat.postMessage"));
        Assert.Contains("*Agent waiting*", posted.Body, StringComparison.Ordinal);
        var update = Assert.Single(Slack.CallsTo("chat.update"));
        Assert.True(update.HasActionsBlock);
        Assert.Contains("*The agent will collect this on its next call*", update.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Execution_also_updates_the_card_that_said_it_waited_for_the_agent()
    {
        var approval = TestApprovals.Pending();
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        var awaiting = approval with { Status = ApprovalStatus.Approved, DecidedBy = Alice, ResolvedAt = DateTimeOffset.UtcNow, CollectBy = DateTimeOffset.UtcNow.AddMinutes(30) };
        await Bot.Channel.UpdateAsync(awaiting, CancellationToken.None);
        Assert.Contains("runs when the agent calls again", Assert.Single(Slack.CallsTo("chat.update")).Body, StringComparison.Ordinal);

        await Bot.Channel.ExecutedAsync(awaiting with { Succeeded = true, ExecutionSummary = "done" }, CancellationToken.None);

        var updates = Slack.CallsTo("chat.update");
        Assert.Equal(2, updates.Count);
        Assert.DoesNotContain("runs when the agent calls again", updates[1].Body, StringComparison.Ordinal);
        Assert.Contains("Executed: succeeded", updates[1].Body, StringComparison.Ordinal);
        Assert.Equal("Executed: succeeded", Slack.CallsTo("chat.postMessage")[1].Get("text")); // the thread reply as before
    }

    [Fact]
    public async Task An_execution_that_overtook_its_approval_does_not_bring_the_buttons_back()
    {
        var approval = TestApprovals.Pending();
        await Bot.Channel.ShowAsync(approval, CancellationToken.None);

        // ApprovalExecuted consumed before ApprovalResolved: the read model still says Pending.
        await Bot.Channel.ExecutedAsync(approval with { Succeeded = true, ExecutionSummary = "done" }, CancellationToken.None);

        Assert.Empty(Slack.CallsTo("chat.update"));
        Assert.Equal("Executed: succeeded", Slack.CallsTo("chat.postMessage")[1].Get("text"));
    }
}
