using System.Diagnostics;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real RabbitMQ node on loopback, started by scripts/rabbitmq-test.sh (which installs Debian's
/// rabbitmq-server when absent). Shared by the whole test run; each test uses its own queues.
/// </summary>
public sealed class RabbitMqNode : IAsyncLifetime
{
    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "rabbitmq-test.sh"));
        start.ArgumentList.Add("start");
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || !int.TryParse(output.Trim().Split('\n').Last(), out var port))
        {
            throw new InvalidOperationException($"RabbitMQ did not start (exit {process.ExitCode}): {error} {output}");
        }

        Port = port;
    }

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
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "rabbitmq-test.sh"));
        start.ArgumentList.Add("vhost");
        start.ArgumentList.Add(vhost);
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"virtual host {vhost} not created (exit {process.ExitCode}): {output}");
        }

        return [.. Settings(), $"--ApprovalBot:Bus:RabbitMq:VirtualHost={vhost}"];
    }
}

[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqNode>
{
    public const string Name = "rabbitmq";
}
