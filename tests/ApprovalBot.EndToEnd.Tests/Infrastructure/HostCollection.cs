namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>One shared gateway (with server-everything and the sample) for tests that do not change its state.</summary>
public sealed class SharedGatewayFixture : IAsyncLifetime
{
    public GatewayHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SharedGatewayCollection : ICollectionFixture<SharedGatewayFixture>
{
    public const string Name = "shared gateway";
}
