using ApprovalBot.Tests.Shared;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real RabbitMQ node on loopback, started by scripts/rabbitmq-test.sh (which installs Debian's
/// rabbitmq-server when absent). Shared by the whole test run; each test uses its own queues.
/// </summary>
public sealed class RabbitMqNode : IAsyncLifetime
{
    public int Port { get; private set; }

    public async Task InitializeAsync() => Port = RepoScripts.Port(await RepoScripts.RunAsync("rabbitmq-test.sh", "start"), "rabbitmq-test.sh");

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Settings that put an ApprovalBot process on this broker (its default virtual host, shared by the run).</summary>
    public IEnumerable<string> Settings() =>
    [
        "--ApprovalBot:Bus:Transport=RabbitMq",
        "--ApprovalBot:Bus:RabbitMq:Host=127.0.0.1",
        $"--ApprovalBot:Bus:RabbitMq:Port={Port}",
    ];

    /// <summary>
    /// Settings on a new, empty virtual host of its own: for a test whose processes must not meet
    /// events an earlier test left in the shared queues (a bot's queue outlives its processes).
    /// </summary>
    public async Task<IReadOnlyList<string>> IsolatedSettingsAsync()
    {
        var vhost = "t-" + Guid.NewGuid().ToString("N")[..12];
        await RepoScripts.RunAsync("rabbitmq-test.sh", "vhost", vhost);
        return [.. Settings(), $"--ApprovalBot:Bus:RabbitMq:VirtualHost={vhost}"];
    }
}

[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqNode>
{
    public const string Name = "rabbitmq";
}
