using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>Raw secrets through the gateway's real redaction to every Slack payload of an approval's life.</summary>
public sealed class SlackSecretsTests : SlackHostTestBase
{
    [Fact]
    public async Task No_secret_an_agent_sent_reaches_slack_in_the_card_its_update_or_the_execution_reply()
    {
        var approval = TestApprovals.Pending(redactedArguments: RawArguments.Redacted());
        Bot.ReadModel.Put(approval);

        await Bot.Channel.ShowAsync(approval, CancellationToken.None);
        var approved = approval with { Status = ApprovalStatus.Approved, DecidedBy = new Approver("slack", TestApprovals.Approver, "alice"), ResolvedAt = DateTimeOffset.UtcNow };
        Bot.ReadModel.Put(approved);
        await Bot.Channel.UpdateAsync(approved, CancellationToken.None);
        var executed = approved with { Succeeded = true, ExecutionSummary = "succeeded" };
        Bot.ReadModel.Put(executed);
        await Bot.Channel.ExecutedAsync(executed, CancellationToken.None);

        var bodies = Slack.Calls.Where(c => c.Method.StartsWith("chat.", StringComparison.Ordinal)).Select(c => c.Body).ToList();
        Assert.Contains(Slack.Calls, c => c.Method == "chat.postMessage" && c.Succeeded);
        Assert.Contains(Slack.Calls, c => c.Method == "chat.update" && c.Succeeded);
        Assert.All(RawArguments.Secrets, secret => Assert.All(bodies, body => Assert.DoesNotContain(secret, body, StringComparison.Ordinal)));
        var card = Slack.CallsTo("chat.postMessage")[0].Body;
        Assert.All(RawArguments.Harmless, visible => Assert.Contains(visible, card, StringComparison.Ordinal));
        Assert.Contains("[redacted]", card, StringComparison.Ordinal);
    }
}
