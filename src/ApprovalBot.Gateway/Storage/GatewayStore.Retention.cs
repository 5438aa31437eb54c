using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>What retention removes, and in which order.</summary>
public enum PruneTarget
{
    /// <summary>Audit rows recorded before the cut-off.</summary>
    Audit,

    /// <summary>Approvals that ended (not Pending, not Approved) before the cut-off.</summary>
    Approvals,

    /// <summary>Remembered card posts and decision ids older than the cut-off (their approvals are gone or final).</summary>
    Dedup,

    /// <summary>Webhook deliveries delivered or given up before the cut-off.</summary>
    Outbox,
}

/// <summary>Retention: deletes in small batches, each its own short transaction, so writers are never held up for long.</summary>
public sealed partial class GatewayStore
{
    /// <summary>Deletes at most <paramref name="batch"/> rows of <paramref name="target"/> older than <paramref name="before"/>; returns how many.</summary>
    public async Task<int> PruneBatchAsync(PruneTarget target, DateTimeOffset before, int batch, CancellationToken cancellationToken)
    {
        var sql = target switch
        {
            PruneTarget.Audit => "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < @Before ORDER BY at LIMIT @batch)",
            PruneTarget.Approvals => """
                DELETE FROM approvals WHERE id IN (
                    SELECT id FROM approvals WHERE resolved_at < @Before AND status NOT IN ('Pending', 'Approved') LIMIT @batch)
                """,
            PruneTarget.Dedup => """
                DELETE FROM cards_posted WHERE (approval_id, channel, reference) IN (
                    SELECT approval_id, channel, reference FROM cards_posted WHERE at < @Before LIMIT @batch);
                DELETE FROM decisions_seen WHERE decision_id IN (SELECT decision_id FROM decisions_seen WHERE at < @Before LIMIT @batch);
                """,
            PruneTarget.Outbox => """
                DELETE FROM webhook_outbox WHERE id IN (
                    SELECT id FROM webhook_outbox WHERE status IN ('delivered', 'given_up') AND created_at < @Before LIMIT @batch)
                """,
            _ => throw new ArgumentOutOfRangeException(nameof(target)),
        };
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(sql, new { Before = before.ToUnixTimeMilliseconds(), batch }, cancellationToken: cancellationToken));
    }
}
