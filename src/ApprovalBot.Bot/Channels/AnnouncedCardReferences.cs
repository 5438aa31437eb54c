using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Channels;

/// <summary>
/// The bot's card references, which also tell the approval's gateway each time a card is posted
/// (<see cref="ApprovalCardPosted"/>), so its audit timeline shows where people were asked. Best
/// effort: the card is stored first, and a bus failure is logged, never thrown at the channel.
/// </summary>
internal sealed partial class AnnouncedCardReferences(BotStore store, IBus bus, TimeProvider time, ILogger<AnnouncedCardReferences> logger) : ICardReferences
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    public async Task SaveAsync(Guid approvalId, string channel, string reference, CancellationToken cancellationToken)
    {
        await store.SaveAsync(approvalId, channel, reference, cancellationToken);
        try
        {
            if (await store.GetAsync(approvalId, cancellationToken) is not { } view)
            {
                return;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(SendTimeout);
            var endpoint = await bus.GetSendEndpoint(view.Request.GatewayAddress);
            await endpoint.Send(new ApprovalCardPosted(approvalId, channel, reference, time.GetUtcNow()), timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogAnnounceFailed(logger, approvalId, channel, e.Message);
        }
    }

    public Task<IReadOnlyList<string>> GetAsync(Guid approvalId, string channel, CancellationToken cancellationToken) =>
        store.GetAsync(approvalId, channel, cancellationToken);

    public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken) => store.SetSettingAsync(key, value, cancellationToken);

    public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken) => store.GetSettingAsync(key, cancellationToken);

    [LoggerMessage(EventName = "CardPostNotAnnounced", Level = LogLevel.Warning, Message = "The {Channel} card of approval {ApprovalId} was posted, but its gateway was not told (the timeline will miss it): {Reason}")]
    private static partial void LogAnnounceFailed(ILogger logger, Guid approvalId, string channel, string reason);
}
