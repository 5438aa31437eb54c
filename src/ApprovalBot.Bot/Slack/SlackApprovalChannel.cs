using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Core.Approvals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Posts the approval card into <see cref="SlackOptions.Channel"/>, replaces it with the final state,
/// and replies in its thread with the execution result. Never throws into the bus consumer: a card
/// that cannot be posted is retried with back-off and logged, and the approval can still be decided
/// in another channel.
/// </summary>
internal sealed class SlackApprovalChannel(
    SlackApiClient api,
    IServiceScopeFactory scopes,
    IOptions<SlackOptions> options,
    TimeProvider timeProvider,
    ILogger<SlackApprovalChannel> logger) : IApprovalChannel, IEscalationChannel
{
    public const string ChannelName = "slack";

    /// <summary>Waits between attempts to post or update a card after a transient failure (429s are waited out inside the client).</summary>
    public static readonly IReadOnlyList<TimeSpan> RetryDelays = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15)];

    public string Name => ChannelName;

    public async Task ShowAsync(ApprovalView approval, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var cards = scope.ServiceProvider.GetRequiredService<ICardReferences>();
            if ((await cards.GetAsync(approval.Id, ChannelName, cancellationToken).ConfigureAwait(false)).Count > 0)
            {
                SlackLog.CardAlreadyPosted(logger, approval.Id);
                return;
            }

            var channel = options.Value.Channel ?? "";
            var blocks = SlackCard.Blocks(approval, timeProvider.GetUtcNow());
            var text = SlackCard.FallbackText(approval);
            SlackMessageRef? posted = null;
            for (var attempt = 1; posted is null; attempt++)
            {
                try
                {
                    posted = await api.PostMessageAsync(channel, text, (JsonArray)blocks.DeepClone(), null, cancellationToken).ConfigureAwait(false);
                }
                catch (SlackApiException e) when (e.IsTransient && attempt <= RetryDelays.Count)
                {
                    SlackLog.CardPostRetry(logger, approval.Id, attempt, e.Error, RetryDelays[attempt - 1]);
                    await Task.Delay(RetryDelays[attempt - 1], timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (SlackApiException e)
                {
                    SlackLog.CardPostFailed(logger, approval.Id, e.Error);
                    return;
                }
            }

            await cards.SaveAsync(approval.Id, ChannelName, posted.ToString(), cancellationToken).ConfigureAwait(false);
            SlackLog.CardPosted(logger, approval.Id, approval.Request.Tool, posted.Channel, posted.Ts);

            // Decided (on another channel, or by expiry), or the agent's call handed back, while the card
            // was on its way: show that now, because that update may have found no card to update.
            var readModel = scope.ServiceProvider.GetRequiredService<IApprovalReadModel>();
            var current = await readModel.GetAsync(approval.Id, cancellationToken).ConfigureAwait(false);
            if (current is not null && !current.ShowsSameAs(approval))
            {
                await UpdateOneAsync(current, posted, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            SlackLog.CardPostFailed(logger, approval.Id, e.GetType().Name);
        }
    }

    public async Task UpdateAsync(ApprovalView approval, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var cards = scope.ServiceProvider.GetRequiredService<ICardReferences>();
            var references = await cards.GetAsync(approval.Id, ChannelName, cancellationToken).ConfigureAwait(false);
            if (references.Count == 0)
            {
                SlackLog.CardMissing(logger, approval.Id);
                return;
            }

            foreach (var reference in references.Distinct(StringComparer.Ordinal))
            {
                if (SlackMessageRef.Parse(reference) is not { } message)
                {
                    SlackLog.CardUpdateFailed(logger, approval.Id, reference, "malformed_reference");
                    continue;
                }

                await UpdateOneAsync(approval, message, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            SlackLog.CardUpdateFailed(logger, approval.Id, "*", e.GetType().Name);
        }
    }

    public async Task ExecutedAsync(ApprovalView approval, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var cards = scope.ServiceProvider.GetRequiredService<ICardReferences>();
            var references = await cards.GetAsync(approval.Id, ChannelName, cancellationToken).ConfigureAwait(false);
            var succeeded = approval.Succeeded ?? approval.Status == ApprovalStatus.Executed;
            // The card itself too: it may still say "runs when the agent calls again". Not while the
            // read model still says Pending (ApprovalExecuted overtook ApprovalResolved): that would
            // bring the buttons back; the ApprovalResolved update follows and shows both.
            if (approval.Status != ApprovalStatus.Pending)
            {
                foreach (var reference in references.Distinct(StringComparer.Ordinal))
                {
                    if (SlackMessageRef.Parse(reference) is { } card)
                    {
                        await UpdateOneAsync(approval, card, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            var text = succeeded
                ? "Executed: succeeded"
                : $"Execution failed: {SlackText.Short(string.IsNullOrWhiteSpace(approval.ExecutionSummary) ? "no details" : approval.ExecutionSummary, 2000)}";
            await ReplyAsync(approval, references, text, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            SlackLog.ThreadReplyFailed(logger, approval.Id, "*", e.GetType().Name);
        }
    }

    /// <summary>A reply in the card's thread that mentions the people the approval was escalated to.</summary>
    public Task EscalatedAsync(ApprovalView approval, IReadOnlyList<string> added, CancellationToken cancellationToken)
    {
        var who = added.Count == 0 ? "nobody new" : string.Join(", ", added.Take(20).Select(SlackText.Principal)) + (added.Count > 20 ? $" and {added.Count - 20} more" : "");
        var text = $":rotating_light: Still no decision on `{SlackText.Short(approval.Request.Tool, 200)}` for {SlackText.Short(approval.Request.Agent, 100)} — escalated to {who}: you may decide it now (expires {SlackText.Date(approval.Request.ExpiresAt)}).";
        return ThreadReplyAsync(approval, text, cancellationToken);
    }

    /// <summary>One reply in the card's thread when the approval is about to expire.</summary>
    public Task RemindAsync(ApprovalView approval, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        ThreadReplyAsync(
            approval,
            $":alarm_clock: {ApprovalText.Reminder($"`{SlackText.Short(approval.Request.Tool, 200)}`", SlackText.Date(expiresAt), expiresAt, timeProvider.GetUtcNow())}",
            cancellationToken);

    private async Task ThreadReplyAsync(ApprovalView approval, string text, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var cards = scope.ServiceProvider.GetRequiredService<ICardReferences>();
            var references = await cards.GetAsync(approval.Id, ChannelName, cancellationToken).ConfigureAwait(false);
            await ReplyAsync(approval, references, text, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            SlackLog.ThreadReplyFailed(logger, approval.Id, "*", e.GetType().Name);
        }
    }

    /// <summary>Posts <paramref name="text"/> once in the thread of each card; a reply that fails is logged and the rest still go out.</summary>
    private async Task ReplyAsync(ApprovalView approval, IReadOnlyList<string> references, string text, CancellationToken cancellationToken)
    {
        foreach (var reference in references.Distinct(StringComparer.Ordinal))
        {
            if (SlackMessageRef.Parse(reference) is not { } message)
            {
                continue;
            }

            try
            {
                // A thread reply is not idempotent: only the client's 429 handling retries it.
                await api.PostMessageAsync(message.Channel, text, null, message.Ts, cancellationToken).ConfigureAwait(false);
            }
            catch (SlackApiException e)
            {
                SlackLog.ThreadReplyFailed(logger, approval.Id, reference, e.Error);
            }
        }
    }

    private async Task UpdateOneAsync(ApprovalView approval, SlackMessageRef message, CancellationToken cancellationToken)
    {
        var blocks = SlackCard.Blocks(approval, timeProvider.GetUtcNow());
        var text = SlackCard.FallbackText(approval);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // chat.update is idempotent, so transient failures are retried.
                await api.UpdateMessageAsync(message, text, (JsonArray)blocks.DeepClone(), cancellationToken).ConfigureAwait(false);
                SlackLog.CardUpdated(logger, approval.Id, message.ToString(), approval.Status.ToString());
                return;
            }
            catch (SlackApiException e) when (e.IsTransient && attempt <= RetryDelays.Count)
            {
                await Task.Delay(RetryDelays[attempt - 1], timeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (SlackApiException e)
            {
                SlackLog.CardUpdateFailed(logger, approval.Id, message.ToString(), e.Error);
                return;
            }
        }
    }
}
