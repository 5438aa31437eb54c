using System.Collections.Concurrent;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Status;

namespace ApprovalBot.Bot.Tests;

/// <summary>Card references and settings in memory: the channels' view of the bot's store, for Slack and Teams tests alike.</summary>
public sealed class InMemoryCardReferences : ICardReferences
{
    private readonly ConcurrentDictionary<(Guid, string), ConcurrentQueue<string>> _references = new();
    private readonly ConcurrentDictionary<string, string> _settings = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Settings => _settings;

    public Task SaveAsync(Guid approvalId, string channel, string reference, CancellationToken cancellationToken)
    {
        _references.GetOrAdd((approvalId, channel), _ => new ConcurrentQueue<string>()).Enqueue(reference);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> GetAsync(Guid approvalId, string channel, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(_references.TryGetValue((approvalId, channel), out var list) ? list.ToArray() : []);

    public Task SetSettingAsync(string key, string value, CancellationToken cancellationToken)
    {
        _settings[key] = value;
        return Task.CompletedTask;
    }

    public Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken) =>
        Task.FromResult(_settings.TryGetValue(key, out var value) ? value : null);
}

/// <summary>A status report that returns whatever <see cref="Snapshot"/> holds (its pending list cut to the asked limit).</summary>
public sealed class FixedStatusReport : IStatusReport
{
    public StatusSnapshot Snapshot { get; set; } = new([], [], 0, new TodayCounts(0, 0, 0, 0, 0, 0), DateTimeOffset.UtcNow);

    public int? LastPendingLimit { get; private set; }

    public Task<StatusSnapshot> GetAsync(int pendingLimit, CancellationToken cancellationToken)
    {
        LastPendingLimit = pendingLimit;
        return Task.FromResult(Snapshot with { Pending = Snapshot.Pending.Take(pendingLimit).ToList() });
    }
}
