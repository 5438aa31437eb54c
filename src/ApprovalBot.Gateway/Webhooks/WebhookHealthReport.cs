using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Webhooks;

/// <summary>Each configured webhook's state, for /readyz and the heartbeat (and so /policy status).</summary>
public sealed class WebhookHealthReport(GatewayStore store, WebhookSettings settings, WebhookDispatcher dispatcher)
{
    public async Task<IReadOnlyList<WebhookHealth>> GetAsync(CancellationToken cancellationToken)
    {
        if (settings.Webhooks.Count == 0)
        {
            return [];
        }

        var counts = (await store.CountUndeliveredAsync(cancellationToken)).ToDictionary(c => c.Webhook, StringComparer.Ordinal);
        return settings.Webhooks.Keys.Order(StringComparer.Ordinal).Select(name =>
        {
            var count = counts.GetValueOrDefault(name);
            var runtime = dispatcher.Runtime.GetValueOrDefault(name);
            var failing = (count?.Retrying ?? 0) > 0 || (runtime?.ConsecutiveFailures ?? 0) > 0;
            return new WebhookHealth(
                name,
                failing,
                count?.Waiting ?? 0,
                count?.GivenUp ?? 0,
                failing || (count?.GivenUp ?? 0) > 0 ? count?.LastError ?? runtime?.LastError : null,
                count?.OldestWaiting,
                runtime?.LastDeliveredAt);
        }).ToList();
    }
}
