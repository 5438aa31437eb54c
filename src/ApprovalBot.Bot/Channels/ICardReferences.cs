namespace ApprovalBot.Bot.Channels;

/// <summary>
/// Where each channel remembers the messages it posted for an approval (Slack channel + ts,
/// Teams conversation + activity id), so later updates can find them. Stored in the bot's store: with
/// PostgreSQL shared by every bot replica, so any replica updates a card whichever one posted it.
/// </summary>
internal interface ICardReferences
{
    Task SaveAsync(Guid approvalId, string channel, string reference, CancellationToken cancellationToken);

    Task<IReadOnlyList<string>> GetAsync(Guid approvalId, string channel, CancellationToken cancellationToken);

    /// <summary>Channel-wide values that are not tied to one approval (e.g. a Teams conversation reference).</summary>
    Task SetSettingAsync(string key, string value, CancellationToken cancellationToken);

    Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken);
}
