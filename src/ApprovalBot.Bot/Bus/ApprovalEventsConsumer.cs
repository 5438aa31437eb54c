using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Storage;
using ApprovalBot.Core.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Bus;

/// <summary>
/// Keeps the read model and every channel's cards in step with the gateways' approval events.
/// Idempotent: the read model's conditional writes decide whether a message is new, and only a
/// new one reaches the channels.
/// </summary>
internal sealed class ApprovalEventsConsumer(
    BotStore store,
    IEnumerable<IApprovalChannel> channels,
    ILogger<ApprovalEventsConsumer> logger)
    : IConsumer<ApprovalRequested>, IConsumer<ApprovalResolved>, IConsumer<ApprovalExecuted>, IConsumer<ApprovalVoted>,
      IConsumer<ApprovalWaiting>, IConsumer<ApprovalLapsed>, IConsumer<ApprovalEscalated>, IConsumer<ApprovalReminder>
{
    public async Task Consume(ConsumeContext<ApprovalRequested> context)
    {
        // With replicas sharing the store, only the one that claims the posting shows the cards (a
        // redelivery, or the same message on another replica, does not post twice).
        if (!await store.ClaimPostingAsync(context.Message, context.CancellationToken))
        {
            if (await store.PostingUnfinishedElsewhereAsync(context.Message.ApprovalId, context.CancellationToken))
            {
                // Its claimer may be gone (the bus hands its unacknowledged message to us at once):
                // come back after the claim's lease, when it can be taken over, or find it posted.
                throw new CardPostingInProgressException(context.Message.ApprovalId);
            }

            return;
        }

        await ForEachChannelAsync(context.Message.ApprovalId, (c, v, ct) => c.ShowAsync(v, ct), context.CancellationToken);
        await store.MarkPostedAsync(context.Message.ApprovalId, context.CancellationToken);
    }

    public async Task Consume(ConsumeContext<ApprovalResolved> context)
    {
        if (await store.GetAsync(context.Message.ApprovalId, context.CancellationToken) is null)
        {
            // The request has not arrived yet (or was lost): let the bus retry, then it lands in the error queue.
            throw new ApprovalNotYetKnownException(context.Message.ApprovalId);
        }

        if (!await store.ResolveAsync(context.Message, context.CancellationToken))
        {
            return;
        }

        await ForEachChannelAsync(context.Message.ApprovalId, (c, v, ct) => c.UpdateAsync(v, ct), context.CancellationToken);
    }

    public async Task Consume(ConsumeContext<ApprovalVoted> context)
    {
        if (await store.GetAsync(context.Message.ApprovalId, context.CancellationToken) is null)
        {
            throw new ApprovalNotYetKnownException(context.Message.ApprovalId);
        }

        if (!await store.RecordVoteAsync(context.Message, context.CancellationToken))
        {
            return;
        }

        await ForEachChannelAsync(context.Message.ApprovalId, (c, v, ct) => c.UpdateAsync(v, ct), context.CancellationToken);
    }

    public async Task Consume(ConsumeContext<ApprovalExecuted> context)
    {
        if (!await store.RecordExecutionAsync(context.Message, context.CancellationToken))
        {
            return;
        }

        await ForEachChannelAsync(context.Message.ApprovalId, (c, v, ct) => c.ExecutedAsync(v, ct), context.CancellationToken);
    }

    /// <summary>"Agent waiting" ⇄ "the agent will collect this on its next call": an older or repeated message changes nothing.</summary>
    public async Task Consume(ConsumeContext<ApprovalWaiting> context)
    {
        var change = await store.RecordWaitingAsync(context.Message, context.CancellationToken);
        if (change == ReadModelChange.NotYetKnown)
        {
            throw new ApprovalNotYetKnownException(context.Message.ApprovalId);
        }

        if (change == ReadModelChange.Unchanged)
        {
            return;
        }

        await ForEachChannelAsync(context.Message.ApprovalId, (c, v, ct) => c.UpdateAsync(v, ct), context.CancellationToken);
    }

    /// <summary>Approved but never collected: every card says nothing ran.</summary>
    public async Task Consume(ConsumeContext<ApprovalLapsed> context)
    {
        var change = await store.RecordLapsedAsync(context.Message, context.CancellationToken);
        if (change == ReadModelChange.NotYetKnown)
        {
            // The request or its ApprovalResolved has not been consumed yet: let the bus retry.
            throw new ApprovalNotYetKnownException(context.Message.ApprovalId);
        }

        if (change == ReadModelChange.Unchanged)
        {
            return;
        }

        BusLog.ApprovalLapsed(logger, context.Message.ApprovalId);
        await ForEachChannelAsync(context.Message.ApprovalId, (c, v, ct) => c.UpdateAsync(v, ct), context.CancellationToken);
    }

    /// <summary>Escalated: the read model takes the new approvers; every card shows it and the escalation channels tell the people added.</summary>
    public async Task Consume(ConsumeContext<ApprovalEscalated> context)
    {
        var change = await store.RecordEscalatedAsync(context.Message, context.CancellationToken);
        if (change == ReadModelChange.NotYetKnown)
        {
            throw new ApprovalNotYetKnownException(context.Message.ApprovalId);
        }

        if (change == ReadModelChange.Unchanged)
        {
            return;
        }

        await ForEachChannelAsync(context.Message.ApprovalId, async (c, v, ct) =>
        {
            await c.UpdateAsync(v, ct);
            if (c is IEscalationChannel escalation)
            {
                await escalation.EscalatedAsync(v, context.Message.Added, ct);
            }
        }, context.CancellationToken);
    }

    /// <summary>About to expire and still pending: one reminder where the channels can thread it.</summary>
    public async Task Consume(ConsumeContext<ApprovalReminder> context)
    {
        var view = await store.GetAsync(context.Message.ApprovalId, context.CancellationToken) ?? throw new ApprovalNotYetKnownException(context.Message.ApprovalId);
        if (view.Status != Core.Approvals.ApprovalStatus.Pending)
        {
            return;
        }

        await ForEachChannelAsync(view, (c, v, ct) =>
            c is IEscalationChannel escalation ? escalation.RemindAsync(v, context.Message.ExpiresAt, ct) : Task.CompletedTask, context.CancellationToken);
    }

    /// <summary>Runs <paramref name="action"/> on every channel with the approval as the read model now has it.</summary>
    private async Task ForEachChannelAsync(Guid approvalId, Func<IApprovalChannel, ApprovalView, CancellationToken, Task> action, CancellationToken cancellationToken) =>
        await ForEachChannelAsync((await store.GetAsync(approvalId, cancellationToken))!, action, cancellationToken);

    /// <summary>Runs <paramref name="action"/> on every channel with <paramref name="view"/>, already read by the caller.</summary>
    private async Task ForEachChannelAsync(ApprovalView view, Func<IApprovalChannel, ApprovalView, CancellationToken, Task> action, CancellationToken cancellationToken)
    {
        // One channel failing (Slack down) must not keep the others (Teams, console) from their cards.
        await Task.WhenAll(channels.Select(async channel =>
        {
            try
            {
                await action(channel, view, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                BusLog.ChannelFailed(logger, channel.Name, view.Id, e.Message);
            }
        }));
    }
}

internal sealed class ApprovalNotYetKnownException(Guid approvalId)
    : Exception($"Approval {approvalId} is not in the read model yet.");

/// <summary>Another bot replica claimed the posting of these cards and has not finished: retried beyond the claim's lease.</summary>
internal sealed class CardPostingInProgressException(Guid approvalId)
    : Exception($"Another bot replica is posting the cards of approval {approvalId}.");
