using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Bot.Status;

/// <summary>Builds /policy status from the read model (indexed queries only) and the heartbeats.</summary>
internal sealed class StatusReport(BotStore store, HeartbeatTracker heartbeats, TimeProvider time) : IStatusReport
{
    public async Task<StatusSnapshot> GetAsync(int pendingLimit, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var pending = await store.ListAsync(ApprovalStatus.Pending, pendingLimit, cancellationToken);
        var pendingTotal = await store.CountAsync(ApprovalStatus.Pending, cancellationToken);
        var awaiting = await store.ListAwaitingCollectionAsync(pendingLimit, cancellationToken);
        var awaitingTotal = awaiting.Count < pendingLimit ? awaiting.Count : await store.CountAwaitingCollectionAsync(cancellationToken);
        var resolved = await store.CountResolvedSinceAsync(midnight, cancellationToken);
        var (grants, grantsTotal) = await store.ListActiveGrantsAsync(now, pendingLimit, cancellationToken);
        var gateways = heartbeats.Snapshot();
        // Only a shared store knows the other bot replicas; with SQLite this bot is the only one.
        var bots = store.Shared ? await store.ListReplicasAsync(now - BotReplicaHeartbeat.ListedFor, BotReplicaHeartbeat.OfflineAfter, cancellationToken) : [];
        int Resolved(ApprovalStatus s) => resolved.TryGetValue(s.ToString(), out var c) ? c : 0;
        // Heartbeats carry each gateway's own counts for today; only same-day ones are added up.
        var today = gateways.Where(g => g.Heartbeat.SentAt >= midnight).Select(g => g.Heartbeat.Today).ToList();
        return new StatusSnapshot(
            gateways,
            pending,
            pendingTotal,
            new TodayCounts(
                // A lapsed approval was still approved by someone today (its resolved_at is the approval).
                Resolved(ApprovalStatus.Approved) + Resolved(ApprovalStatus.Lapsed),
                Resolved(ApprovalStatus.Denied),
                Resolved(ApprovalStatus.Expired),
                Resolved(ApprovalStatus.Cancelled),
                today.Sum(t => t.Allowed),
                today.Sum(t => t.DeniedByPolicy))
            {
                Lapsed = Resolved(ApprovalStatus.Lapsed),
            },
            now)
        {
            AwaitingCollection = awaiting,
            AwaitingCollectionTotal = awaitingTotal,
            ActiveGrants = grants,
            ActiveGrantsTotal = grantsTotal,
            Bots = bots,
        };
    }
}
