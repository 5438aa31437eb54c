using ApprovalBot.Storage;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Bus;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Bot.WebConsole;
using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace ApprovalBot.Bot;

/// <param name="InstanceId">This bot replica's id (the same as its heartbeat queue's); random when not given.</param>
public sealed record BotSettings(string DataDirectory, ConsoleOptions Console, string AdminToken, StorageOptions? Storage = null, string? InstanceId = null)
{
    /// <summary>A configured id, else the machine name and a random suffix (replicas on one host differ).</summary>
    public static string NewInstanceId(string? configured) =>
        configured ?? $"{Environment.MachineName.ToLowerInvariant()}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3))}";
}

public static class BotHosting
{
    /// <summary>The bot's own services; channels (Slack, Teams) register themselves beside these.</summary>
    public static IServiceCollection AddBot(this IServiceCollection services, BotSettings settings)
    {
        Directory.CreateDirectory(settings.DataDirectory);
        services.AddSingleton(settings);
        services.TryAddSingleton(TimeProvider.System);
        // First hosted service: the schema exists before the bus delivers anything.
        services.AddHostedService<BotStartup>();
        services.AddSingleton(sp => new BotStore(
            Database.Create(settings.Storage ?? new StorageOptions(), Path.Combine(settings.DataDirectory, "bot.db"), "bot"),
            settings.InstanceId ?? BotSettings.NewInstanceId(null),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IApprovalReadModel>(sp => sp.GetRequiredService<BotStore>());
        // Each posted card is also reported to the approval's gateway, for its audit timeline.
        services.AddSingleton<ICardReferences, AnnouncedCardReferences>();
        services.AddSingleton<HeartbeatTracker>();
        services.AddHostedService<BotReplicaHeartbeat>();
        services.AddSingleton<IStatusReport, StatusReport>();
        services.AddSingleton<IApprovalDecisions, BusApprovalDecisions>();
        services.AddSingleton<IGrantReadModel>(sp => sp.GetRequiredService<BotStore>());
        services.AddSingleton<IGrantCommands, BusGrantCommands>();
        return services;
    }
}

/// <summary>Creates the bot database before the bus delivers anything.</summary>
internal sealed class BotStartup(BotStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
