using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Storage;
using MassTransit;

namespace ApprovalBot.Gateway.Bus;

/// <summary>
/// Records a card a bot posted as a <c>card_posted</c> audit row of its approval. Idempotent: the
/// card's (approval, channel, reference) is remembered, and only the first report is audited.
/// </summary>
public sealed class ApprovalCardPostedConsumer(GatewayStore store, AuditTrail audit) : IConsumer<ApprovalCardPosted>
{
    public async Task Consume(ConsumeContext<ApprovalCardPosted> context)
    {
        var posted = context.Message;
        // Another gateway's approval (a misrouted message) or one already pruned: nothing to attach it to.
        if (await store.GetApprovalAsync(posted.ApprovalId, context.CancellationToken) is not { } approval)
        {
            return;
        }

        var channel = Short(posted.Channel, 40);
        var reference = Short(posted.Reference, 500);
        if (!await store.TryRememberCardAsync(approval.Id, channel, reference, posted.PostedAt, context.CancellationToken))
        {
            return;
        }

        audit.Record(new AuditEntry(
            posted.PostedAt, AuditDecisions.CardPosted, approval.Agent, approval.Tool, approval.Rule,
            Digest: approval.Digest, ApprovalId: approval.Id, Channel: channel, Reference: reference));
    }

    private static string Short(string text, int max) => text.Length <= max ? text : text[..max];
}
