using System.Text.Json;
using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// Time-boxed grants. A grant is born in the same transaction as its approval's move to Approved,
/// and ends once (a conditional UPDATE on <c>ended_at IS NULL</c>), so a revoke, the expiry sweep
/// and a policy reload cannot both end it.
/// </summary>
public sealed partial class GatewayStore
{
    /// <summary>
    /// Pending → Approved and the new grant, in one transaction: either the decision won and the
    /// grant exists, or nothing changed.
    /// </summary>
    public async Task<bool> TryApproveWithGrantAsync(
        Guid id, DateTimeOffset at, string decidedBy, string? decidedByName, string channel, string? comment, GrantRecord grant, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var moved = await connection.ExecuteAsync(
            $"""
            UPDATE approvals SET status = 'Approved', {DecisionColumns}, grant_id = @GrantId,
                approved_by = {AppendToJsonList("approved_by", "@DecidedBy")}
            WHERE id = @Id AND status = 'Pending'
            """,
            new
            {
                Id = id.ToString(),
                At = at.ToUnixTimeMilliseconds(),
                DecidedBy = decidedBy,
                DecidedByName = decidedByName,
                Channel = channel,
                Comment = comment,
                GrantId = grant.Id.ToString(),
            },
            transaction) == 1;
        if (!moved)
        {
            return false;
        }

        await connection.ExecuteAsync(
            """
            INSERT INTO grants (id, approval_id, agent, tool, upstream, rule, rule_fingerprint, scope, digest, granted_by, granted_by_name,
                                channel, revokers, created_at, expires_at, instance, created_published, ended_published)
            VALUES (@Id, @ApprovalId, @Agent, @Tool, @Upstream, @Rule, @RuleFingerprint, @Scope, @Digest, @GrantedBy, @GrantedByName,
                    @Channel, @Revokers, @CreatedAt, @ExpiresAt, @Instance, 0, 1)
            """,
            new
            {
                Id = grant.Id.ToString(),
                ApprovalId = grant.ApprovalId.ToString(),
                grant.Agent,
                grant.Tool,
                grant.Upstream,
                grant.Rule,
                grant.RuleFingerprint,
                grant.Scope,
                grant.Digest,
                grant.GrantedBy,
                grant.GrantedByName,
                grant.Channel,
                Revokers = JsonSerializer.Serialize(grant.Revokers),
                CreatedAt = grant.CreatedAt.ToUnixTimeMilliseconds(),
                ExpiresAt = grant.ExpiresAt.ToUnixTimeMilliseconds(),
                grant.Instance,
            },
            transaction);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<GrantRecord?> GetGrantAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<GrantRow>(SelectGrant + " WHERE id = @Id", new { Id = id.ToString() });
        return row?.ToRecord();
    }

    /// <summary>The agent's active grants for the tool (not ended, not expired at <paramref name="now"/>), newest first.</summary>
    public async Task<IReadOnlyList<GrantRecord>> FindActiveGrantsAsync(string agent, string tool, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GrantRow>(
            SelectGrant + " WHERE agent = @agent AND tool = @tool AND ended_at IS NULL AND expires_at > @Now ORDER BY created_at DESC",
            new { agent, tool, Now = now.ToUnixTimeMilliseconds() });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Grants not ended yet (expired ones included until the sweep ends them), oldest first.</summary>
    public async Task<IReadOnlyList<GrantRecord>> ListOpenGrantsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GrantRow>(SelectGrant + " WHERE ended_at IS NULL ORDER BY created_at");
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Ends an open grant once; false when it had ended already (or does not exist).</summary>
    public async Task<bool> TryEndGrantAsync(
        Guid id, string reason, DateTimeOffset at, string? by, string? byName, string? comment, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            """
            UPDATE grants SET ended_at = @At, end_reason = @Reason, ended_by = @By, ended_by_name = @ByName, end_comment = @Comment, ended_published = 0
            WHERE id = @Id AND ended_at IS NULL
            """,
            new { Id = id.ToString(), At = at.ToUnixTimeMilliseconds(), Reason = reason, By = by, ByName = byName, Comment = comment }) == 1;
    }

    /// <summary>Open grants past their expiry, ended as expired in one statement (at their expiry time); returns them.</summary>
    public async Task<IReadOnlyList<GrantRecord>> ExpireDueGrantsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GrantRow>(
            $"""
            UPDATE grants SET ended_at = expires_at, end_reason = 'expired', ended_published = 0
            WHERE ended_at IS NULL AND expires_at <= @Now
            RETURNING {GrantColumns}
            """,
            new { Now = now.ToUnixTimeMilliseconds() });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>This instance's grants whose creation or end has not been published yet, with which of the two is missing.</summary>
    public async Task<IReadOnlyList<(GrantRecord Grant, bool CreatedPublished, bool EndedPublished)>> ListUnpublishedGrantsAsync(string instance, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GrantRow>(
            SelectGrant + " WHERE instance = @instance AND (created_published = 0 OR ended_published = 0) ORDER BY created_at",
            new { instance });
        return rows.Select(r => (r.ToRecord(), r.CreatedPublished, r.EndedPublished)).ToList();
    }

    public async Task MarkGrantPublishedAsync(Guid id, bool ended, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            ended ? "UPDATE grants SET ended_published = 1 WHERE id = @Id" : "UPDATE grants SET created_published = 1 WHERE id = @Id",
            new { Id = id.ToString() });
    }

    /// <summary>Every column of <see cref="GrantRow"/>: for SELECT and for UPDATE … RETURNING (SQLite and PostgreSQL both take aliases there).</summary>
    private const string GrantColumns = """
        id AS Id, approval_id AS ApprovalId, agent AS Agent, tool AS Tool, upstream AS Upstream, rule AS Rule,
        rule_fingerprint AS RuleFingerprint, scope AS Scope, digest AS Digest, granted_by AS GrantedBy,
        granted_by_name AS GrantedByName, channel AS Channel, revokers AS Revokers, created_at AS CreatedAt,
        expires_at AS ExpiresAt, instance AS Instance, ended_at AS EndedAt, end_reason AS EndReason,
        ended_by AS EndedBy, ended_by_name AS EndedByName, end_comment AS EndComment,
        created_published AS CreatedPublished, ended_published AS EndedPublished
        """;

    private const string SelectGrant = "SELECT " + GrantColumns + " FROM grants";

    private sealed class GrantRow
    {
        public string Id { get; init; } = "";
        public string ApprovalId { get; init; } = "";
        public string Agent { get; init; } = "";
        public string Tool { get; init; } = "";
        public string Upstream { get; init; } = "";
        public string Rule { get; init; } = "";
        public string RuleFingerprint { get; init; } = "";
        public string Scope { get; init; } = "";
        public string? Digest { get; init; }
        public string GrantedBy { get; init; } = "";
        public string GrantedByName { get; init; } = "";
        public string Channel { get; init; } = "";
        public string Revokers { get; init; } = "[]";
        public long CreatedAt { get; init; }
        public long ExpiresAt { get; init; }
        public string Instance { get; init; } = "";
        public long? EndedAt { get; init; }
        public string? EndReason { get; init; }
        public string? EndedBy { get; init; }
        public string? EndedByName { get; init; }
        public string? EndComment { get; init; }
        public bool CreatedPublished { get; init; }
        public bool EndedPublished { get; init; }

        public GrantRecord ToRecord() => new(
            Guid.Parse(Id), Guid.Parse(ApprovalId), Agent, Tool, Upstream, Rule, RuleFingerprint, Scope, Digest, GrantedBy, GrantedByName, Channel,
            JsonSerializer.Deserialize<string[]>(Revokers) ?? [],
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(ExpiresAt), Instance,
            EndedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(EndedAt.Value), EndReason, EndedBy, EndedByName, EndComment);
    }
}
