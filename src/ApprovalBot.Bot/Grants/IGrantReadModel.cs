namespace ApprovalBot.Bot.Grants;

internal interface IGrantReadModel
{
    Task<GrantView?> GetGrantAsync(Guid grantId, CancellationToken cancellationToken);

    /// <summary>Active grants (not ended, not expired at <paramref name="now"/>), soonest to end first; with <paramref name="activeOnly"/> false, the newest grants of any state.</summary>
    Task<IReadOnlyList<GrantView>> ListGrantsAsync(bool activeOnly, DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The first <paramref name="limit"/> active grants (as <see cref="ListGrantsAsync"/>) and how many are active in all;
    /// counted only when the list is full, since a shorter list is already all of them.
    /// </summary>
    Task<(IReadOnlyList<GrantView> Shown, int Total)> ListActiveGrantsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);
}
