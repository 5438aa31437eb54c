using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>The webhook outbox: written with the audit rows, drained by the dispatcher, kept across restarts.</summary>
public sealed partial class GatewayStore
{
    /// <summary>Deliveries due now, oldest first.</summary>
    public async Task<IReadOnlyList<OutboxDelivery>> ListDueDeliveriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<OutboxRow>(
            new CommandDefinition(
                """
                SELECT id AS Id, webhook AS Webhook, event_id AS EventId, event AS Event, body AS Body, attempts AS Attempts, created_at AS CreatedAt
                FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= @Now ORDER BY next_attempt_at, id LIMIT @limit
                """,
                new { Now = now.ToUnixTimeMilliseconds(), limit },
                cancellationToken: cancellationToken));
        return rows.Select(r => new OutboxDelivery(r.Id, r.Webhook, Guid.Parse(r.EventId), r.Event, r.Body, (int)r.Attempts, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt))).ToList();
    }

    /// <summary>
    /// Deliveries due now, taken for <paramref name="leaseFor"/>: their next attempt moves to the end
    /// of the lease in the same statement, so of gateways sharing the outbox exactly one takes each
    /// (the others' UPDATE no longer matches it). Delivered or failed, the row is written again before
    /// the lease ends; a gateway that dies holding it leaves it to be tried when the lease runs out.
    /// </summary>
    public async Task<IReadOnlyList<OutboxDelivery>> LeaseDueDeliveriesAsync(DateTimeOffset now, int limit, TimeSpan leaseFor, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<OutboxRow>(
            new CommandDefinition(
                """
                UPDATE webhook_outbox SET next_attempt_at = @LeaseUntil
                WHERE id IN (SELECT id FROM webhook_outbox WHERE status = 'pending' AND next_attempt_at <= @Now ORDER BY next_attempt_at, id LIMIT @limit)
                  AND status = 'pending' AND next_attempt_at <= @Now
                RETURNING id AS Id, webhook AS Webhook, event_id AS EventId, event AS Event, body AS Body, attempts AS Attempts, created_at AS CreatedAt
                """,
                new { Now = now.ToUnixTimeMilliseconds(), LeaseUntil = (now + leaseFor).ToUnixTimeMilliseconds(), limit },
                cancellationToken: cancellationToken));
        // RETURNING keeps no order: each webhook's events go out in the order they were queued.
        return rows.OrderBy(r => r.Id)
            .Select(r => new OutboxDelivery(r.Id, r.Webhook, Guid.Parse(r.EventId), r.Event, r.Body, (int)r.Attempts, DateTimeOffset.FromUnixTimeMilliseconds(r.CreatedAt)))
            .ToList();
    }

    /// <summary>When the next delivery falls due (null: nothing waits), so the dispatcher sleeps exactly until then.</summary>
    public async Task<DateTimeOffset?> NextDeliveryDueAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var next = await connection.ExecuteScalarAsync<long?>("SELECT MIN(next_attempt_at) FROM webhook_outbox WHERE status = 'pending'");
        return next is { } ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    public async Task MarkDeliveredAsync(long id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            "UPDATE webhook_outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = @At, last_attempt_at = @At, last_error = NULL WHERE id = @id",
            new { id, At = at.ToUnixTimeMilliseconds() });
    }

    /// <summary>A failed attempt: retried at <paramref name="retryAt"/>, or given up when it is null.</summary>
    public async Task MarkAttemptFailedAsync(long id, DateTimeOffset at, string error, DateTimeOffset? retryAt, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            """
            UPDATE webhook_outbox SET attempts = attempts + 1, last_attempt_at = @At, last_error = @error,
                status = CASE WHEN @RetryAt IS NULL THEN 'given_up' ELSE 'pending' END,
                next_attempt_at = COALESCE(@RetryAt, next_attempt_at)
            WHERE id = @id
            """,
            new { id, At = at.ToUnixTimeMilliseconds(), error, RetryAt = retryAt?.ToUnixTimeMilliseconds() });
    }

    /// <summary>Per webhook with undelivered rows: for /readyz and the heartbeat (delivered rows are not read).</summary>
    public async Task<IReadOnlyList<OutboxCounts>> CountUndeliveredAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<CountsRow>(
            new CommandDefinition(
                """
                SELECT webhook AS Webhook,
                       SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS Waiting,
                       SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS Retrying,
                       SUM(CASE WHEN status = 'given_up' THEN 1 ELSE 0 END) AS GivenUp,
                       MIN(CASE WHEN status = 'pending' THEN created_at END) AS OldestWaiting,
                       (SELECT e.last_error FROM webhook_outbox e WHERE e.webhook = o.webhook AND e.status IN ('pending', 'given_up') AND e.last_error IS NOT NULL
                        ORDER BY e.last_attempt_at DESC LIMIT 1) AS LastError
                FROM webhook_outbox o WHERE status IN ('pending', 'given_up') GROUP BY webhook
                """,
                cancellationToken: cancellationToken));
        return rows.Select(r => new OutboxCounts(
            r.Webhook, (int)r.Waiting, (int)r.Retrying, (int)r.GivenUp,
            r.OldestWaiting is { } oldest ? DateTimeOffset.FromUnixTimeMilliseconds(oldest) : null,
            r.LastError)).ToList();
    }

    private sealed class OutboxRow
    {
        public long Id { get; init; }
        public string Webhook { get; init; } = "";
        public string EventId { get; init; } = "";
        public string Event { get; init; } = "";
        public string Body { get; init; } = "";
        public long Attempts { get; init; }
        public long CreatedAt { get; init; }
    }

    private sealed class CountsRow
    {
        public string Webhook { get; init; } = "";
        public long Waiting { get; init; }
        public long Retrying { get; init; }
        public long GivenUp { get; init; }
        public long? OldestWaiting { get; init; }
        public string? LastError { get; init; }
    }
}
