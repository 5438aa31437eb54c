using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>Raw secrets through the gateway's real redaction to every Teams activity of an approval's life.</summary>
public sealed class TeamsSecretsTests : TeamsHostedTests
{
    [Fact]
    public async Task No_secret_an_agent_sent_reaches_teams_in_the_card_its_update_or_the_execution_reply()
    {
        var view = Host.AddPending(arguments: RawArguments.Redacted());

        await Host.Channel.ShowAsync(view, CancellationToken.None);
        var approved = view with { Status = ApprovalStatus.Approved, DecidedBy = new ApprovalBot.Core.Contracts.Approver("teams", TeamsTestHost.ApproverAadId, "Ada Approver"), ResolvedAt = DateTimeOffset.UtcNow };
        Host.ReadModel.Put(approved);
        await Host.Channel.UpdateAsync(approved, CancellationToken.None);
        var executed = approved with { Succeeded = true, ExecutionSummary = "succeeded" };
        Host.ReadModel.Put(executed);
        await Host.Channel.ExecutedAsync(executed, CancellationToken.None);

        var calls = Connector.Calls.Where(c => c.Body is not null).ToList();
        Assert.Contains(calls, c => c.Kind == "create" && c.Succeeded);
        Assert.Contains(calls, c => c.Kind == "update" && c.Succeeded);
        Assert.Contains(calls, c => c.Kind is "reply" or "send" && c.Succeeded);
        Assert.All(RawArguments.Secrets, secret => Assert.All(calls, c => Assert.DoesNotContain(secret, c.Body!.ToJsonString(), StringComparison.Ordinal)));
        var card = calls.First(c => c.Kind == "create").Card!.ToJsonString();
        Assert.All(RawArguments.Harmless, visible => Assert.Contains(visible, card, StringComparison.Ordinal));
        Assert.Contains("[redacted]", card, StringComparison.Ordinal);
    }
}
