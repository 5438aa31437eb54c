using System.Text.Json;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Core.Contracts;
using Dapper;

namespace ApprovalBot.Bot.Storage;

/// <summary>The read model of time-boxed grants, fed by GrantCreated and GrantEnded; idempotent like the approvals.</summary>
internal sealed partial class BotStore
{
    /// <summary>Inserts a new grant; a redelivered message changes nothing. Returns true when it was new.</summary>
    public async Task<bool> AddGrantAsync(GrantCreated grant, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "INSERT INTO grants (id, grant_created, created_at, expires_at) VALUES (@Id, @Body, @CreatedAt, @ExpiresAt) ON CONFLICT DO NOTHING",
            new
            {
                Id = grant.GrantId.ToString(),
                Body = JsonSerializer.Serialize(grant),
                CreatedAt = grant.CreatedAt.ToUnixTimeMilliseconds(),
                ExpiresAt = grant.ExpiresAt.ToUnixTimeMilliseconds(),
            }) == 1;
    }

    /// <summary>Records the end once. <see cref="ReadModelChange.NotYetKnown"/> while GrantCreated has not arrived (the bus retries).</summary>
    public async Task<ReadModelChange> EndGrantAsync(GrantEnded ended, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var id = ended.GrantId.ToString();
        var updated = await connection.ExecuteAsync(
            "UPDATE grants SET ended_at = @At, end_reason = @Reason, ended_by = @By, end_comment = @Comment WHERE id = @id AND ended_at IS NULL",
            new
            {
                id,
                At = ended.EndedAt.ToUnixTimeMilliseconds(),
                ended.Reason,
                By = ended.By is null ? null : JsonSerializer.Serialize(ended.By),
                ended.Comment,
            });
        if (updated == 1)
        {
            return ReadModelChange.Changed;
        }

        var known = await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM grants WHERE id = @id", new { id });
        return known == 0 ? ReadModelChange.NotYetKnown : ReadModelChange.Unchanged;
    }

    public async Task<GrantView?> GetGrantAsync(Guid grantId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<GrantRow>(SelectGrant + " WHERE id = @Id", new { Id = grantId.ToString() });
        return row?.ToView();
    }

    public async Task<IReadOnlyList<GrantView>> ListGrantsAsync(bool activeOnly, DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GrantRow>(
            SelectGrant + (activeOnly
                ? " WHERE ended_at IS NULL AND expires_at > @Now ORDER BY expires_at LIMIT @limit"
                : " ORDER BY created_at DESC LIMIT @limit"),
            new { Now = now.ToUnixTimeMilliseconds(), limit });
        return rows.Select(r => r.ToView()).ToList();
    }

    public async Task<(IReadOnlyList<GrantView> Shown, int Total)> ListActiveGrantsAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var shown = await ListGrantsAsync(activeOnly: true, now, limit, cancellationToken);
        return (shown, shown.Count < limit ? shown.Count : await CountActiveGrantsAsync(now, cancellationToken));
    }

    public async Task<int> CountActiveGrantsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM grants WHERE ended_at IS NULL AND expires_at > @Now", new { Now = now.ToUnixTimeMilliseconds() });
    }

    private const string SelectGrant = """
        SELECT grant_created AS GrantCreated, ended_at AS EndedAt, end_reason AS EndReason, ended_by AS EndedBy, end_comment AS EndComment
        FROM grants
        """;

    private sealed class GrantRow
    {
        public string GrantCreated { get; init; } = "";
        public long? EndedAt { get; init; }
        public string? EndReason { get; init; }
        public string? EndedBy { get; init; }
        public string? EndComment { get; init; }

        public GrantView ToView() => new(
            JsonSerializer.Deserialize<GrantCreated>(GrantCreated)!,
            EndedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(EndedAt.Value),
            EndReason,
            EndedBy is null ? null : JsonSerializer.Deserialize<Approver>(EndedBy),
            EndComment);
    }
}
