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

public sealed record BotSettings(string DataDirectory, ConsoleOptions Console, string AdminToken, StorageOptions? Storage = null);

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
        services.AddSingleton(new BotStore(Database.Create(settings.Storage ?? new StorageOptions(), Path.Combine(settings.DataDirectory, "bot.db"), "bot")));
        services.AddSingleton<IApprovalReadModel>(sp => sp.GetRequiredService<BotStore>());
        // Each posted card is also reported to the approval's gateway, for its audit timeline.
        services.AddSingleton<ICardReferences, AnnouncedCardReferences>();
        services.AddSingleton<HeartbeatTracker>();
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
