namespace ApprovalBot.Bot.Grants;

internal interface IGrantReadModel
{
    Task<GrantView?> GetGrantAsync(Guid grantId, CancellationToken cancellationToken);

    /// <summary>Active grants (not ended, not expired at <paramref name="now"/>), soonest to end first; with <paramref name="activeOnly"/> false, the newest grants of any state.</summary>
    Task<IReadOnlyList<GrantView>> ListGrantsAsync(bool activeOnly, DateTimeOffset now, int limit, CancellationToken cancellationToken);

    Task<int> CountActiveGrantsAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
