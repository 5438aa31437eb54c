namespace ApprovalBot.Gateway.Storage;

/// <summary>One webhook delivery to queue: the same event goes to every webhook that subscribed to it, with the same id.</summary>
public sealed record OutboxMessage(string Webhook, Guid EventId, string Event, string Body, DateTimeOffset CreatedAt);

/// <summary>A queued delivery as the dispatcher reads it.</summary>
public sealed record OutboxDelivery(long Id, string Webhook, Guid EventId, string Event, string Body, int Attempts, DateTimeOffset CreatedAt);

/// <summary>Per webhook: what waits, what keeps failing, what was given up, and the last error.</summary>
/// <param name="Waiting">Not delivered yet (including retries).</param>
/// <param name="Retrying">Of <paramref name="Waiting"/>: failed at least once.</param>
/// <param name="GivenUp">Abandoned after the retry period.</param>
public sealed record OutboxCounts(string Webhook, int Waiting, int Retrying, int GivenUp, DateTimeOffset? OldestWaiting, string? LastError);

/// <summary>
/// Decides which audit rows become webhook events, and builds their bodies. Called inside the audit
/// writer's transaction, so it must not throw or do I/O.
/// </summary>
public interface IAuditOutbox
{
    bool Wants(AuditEntry entry);

    IEnumerable<OutboxMessage> Messages(AuditEntry entry, ApprovalRecord? approval);

    /// <summary>After the transaction committed <paramref name="deliveries"/> deliveries.</summary>
    void Committed(int deliveries);
}
