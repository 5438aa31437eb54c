namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>
/// A Teams bot host on fakes of Bot Framework's token service and the Connector, started afresh for every
/// test of the class and stopped after it.
/// </summary>
public abstract class TeamsHostedTests : IAsyncLifetime
{
    protected FakeBotFrameworkAuth Auth { get; private set; } = null!;

    protected FakeTeamsConnector Connector { get; private set; } = null!;

    protected TeamsTestHost Host { get; private set; } = null!;

    /// <summary>The bot's clock: the system's unless the class needs its own.</summary>
    protected virtual TimeProvider? Time => null;

    public async Task InitializeAsync()
    {
        Auth = await FakeBotFrameworkAuth.StartAsync();
        Connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
        Host = await TeamsTestHost.StartAsync(Auth, Connector, Time);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Connector.DisposeAsync();
        await Auth.DisposeAsync();
    }
}
