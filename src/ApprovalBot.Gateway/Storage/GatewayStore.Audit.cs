using System.Text;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Storage;
using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>Reading the audit trail: filtered pages newest first, one approval's rows oldest first, card posts.</summary>
public sealed partial class GatewayStore
{
    private const string SelectAudit = """
        SELECT id AS Id, at AS At, agent AS Agent, tool AS Tool, decision AS Decision, rule AS Rule, reason AS Reason,
               duration_ms AS DurationMs, digest AS Digest, approval_id AS ApprovalId, actor AS Actor, channel AS Channel, reference AS Reference,
               grant_id AS GrantId
        FROM audit
        """;

    /// <summary>
    /// One page, newest first by (at, id). Only the filters given become SQL conditions, so each
    /// query can walk one of the (column, at) indexes instead of sorting the table.
    /// </summary>
    public async Task<AuditPage> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder(SelectAudit).Append(" WHERE 1 = 1");
        var parameters = new DynamicParameters();
        if (query.Agent is not null)
        {
            sql.Append(" AND agent = @Agent");
            parameters.Add("Agent", query.Agent);
        }

        if (query.Tool is not null)
        {
            sql.Append(" AND tool = @Tool");
            parameters.Add("Tool", query.Tool);
        }

        if (query.ApprovalId is { } approval)
        {
            sql.Append(" AND approval_id = @ApprovalId");
            parameters.Add("ApprovalId", approval.ToString());
        }

        if (query.From is { } from)
        {
            sql.Append(" AND at >= @From");
            parameters.Add("From", from.ToUnixTimeMilliseconds());
        }

        if (query.To is { } to)
        {
            sql.Append(" AND at < @To");
            parameters.Add("To", to.ToUnixTimeMilliseconds());
        }

        if (query.After is { } after)
        {
            // "at <= x" first: a range the index can seek to; the OR only settles ties on at.
            sql.Append(" AND at <= @CursorAt AND (at < @CursorAt OR id < @CursorId)");
            parameters.Add("CursorAt", after.AtMilliseconds);
            parameters.Add("CursorId", after.Id);
        }

        if (query.Decisions.Count > 0)
        {
            var alternatives = new List<string>();
            var plain = query.Decisions.Where(d => d is not ("denied" or AuditDecisions.DeniedByHuman)).Distinct().ToList();
            if (plain.Count > 0)
            {
                // Dapper expands a list for SQLite but hands Npgsql an array, which IN cannot take.
                alternatives.Add(IsPostgres ? "decision = ANY(@Decisions)" : "decision IN @Decisions");
                parameters.Add("Decisions", plain.ToArray());
            }

            // Stored alike; told apart by whether the row belongs to an approval.
            if (query.Decisions.Contains("denied"))
            {
                alternatives.Add("(decision = 'denied' AND approval_id IS NULL)");
            }

            if (query.Decisions.Contains(AuditDecisions.DeniedByHuman))
            {
                alternatives.Add("(decision = 'denied' AND approval_id IS NOT NULL)");
            }

            sql.Append(" AND (").Append(string.Join(" OR ", alternatives)).Append(')');
        }

        sql.Append(" ORDER BY at DESC, id DESC LIMIT @Take");
        // One more than asked: tells whether another page exists without an empty last page.
        parameters.Add("Take", query.Limit + 1);
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = (await connection.QueryAsync<AuditRow>(new CommandDefinition(sql.ToString(), parameters, cancellationToken: cancellationToken))).ToList();
        var items = rows.Take(query.Limit).Select(r => r.ToRecord()).ToList();
        var next = rows.Count > query.Limit ? new AuditCursor(items[^1].At.ToUnixTimeMilliseconds(), items[^1].Id).ToString() : null;
        return new AuditPage(items, next);
    }

    /// <summary>Every audit row of one approval, oldest first.</summary>
    public async Task<IReadOnlyList<AuditRecord>> ReadApprovalAuditAsync(Guid approvalId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<AuditRow>(
            new CommandDefinition(SelectAudit + " WHERE approval_id = @Id ORDER BY at, id", new { Id = approvalId.ToString() }, cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Remembers a posted card; false when this card (approval, channel, reference) was reported before.</summary>
    public async Task<bool> TryRememberCardAsync(Guid approvalId, string channel, string reference, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "INSERT INTO cards_posted (approval_id, channel, reference, at) VALUES (@Id, @channel, @reference, @At) ON CONFLICT DO NOTHING",
            new { Id = approvalId.ToString(), channel, reference, At = at.ToUnixTimeMilliseconds() }) == 1;
    }
}
