using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>Raw secrets through the gateway's real redaction to every Teams activity of an approval's life.</summary>
public sealed class TeamsSecretsTests : IAsyncLifetime
{
    private FakeBotFrameworkAuth _auth = null!;
    private FakeTeamsConnector _connector = null!;
    private TeamsTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _auth = await FakeBotFrameworkAuth.StartAsync();
        _connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        _host = await TeamsTestHost.StartAsync(_auth, _connector);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _connector.DisposeAsync();
        await _auth.DisposeAsync();
    }

    [Fact]
    public async Task No_secret_an_agent_sent_reaches_teams_in_the_card_its_update_or_the_execution_reply()
    {
        var view = _host.AddPending(arguments: RawArguments.Redacted());

        await _host.Channel.ShowAsync(view, CancellationToken.None);
        var approved = view with { Status = ApprovalStatus.Approved, DecidedBy = new ApprovalBot.Core.Contracts.Approver("teams", TeamsTestHost.ApproverAadId, "Ada Approver"), ResolvedAt = DateTimeOffset.UtcNow };
        _host.ReadModel.Put(approved);
        await _host.Channel.UpdateAsync(approved, CancellationToken.None);
        var executed = approved with { Succeeded = true, ExecutionSummary = "succeeded" };
        _host.ReadModel.Put(executed);
        await _host.Channel.ExecutedAsync(executed, CancellationToken.None);

        var calls = _connector.Calls.Where(c => c.Body is not null).ToList();
        Assert.Contains(calls, c => c.Kind == "create" && c.Succeeded);
        Assert.Contains(calls, c => c.Kind == "update" && c.Succeeded);
        Assert.Contains(calls, c => c.Kind is "reply" or "send" && c.Succeeded);
        Assert.All(RawArguments.Secrets, secret => Assert.All(calls, c => Assert.DoesNotContain(secret, c.Body!.ToJsonString(), StringComparison.Ordinal)));
        var card = calls.First(c => c.Kind == "create").Card!.ToJsonString();
        Assert.All(RawArguments.Harmless, visible => Assert.Contains(visible, card, StringComparison.Ordinal));
        Assert.Contains("[redacted]", card, StringComparison.Ordinal);
    }
}
