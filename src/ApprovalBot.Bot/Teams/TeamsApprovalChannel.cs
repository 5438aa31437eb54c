using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Core.Approvals;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// Approval cards in a Teams channel: each approval opens a new thread (its root is the card),
/// which is PUT again when the approval changes, and gets a reply when the approved call ran.
/// Failures are logged (transient ones were already retried by the Connector client) and never
/// thrown, so one channel cannot hold up the others.
/// </summary>
internal sealed class TeamsApprovalChannel(
    TeamsConnectorClient connector,
    ICardReferences cardReferences,
    IApprovalReadModel readModel,
    TeamsConversationStore conversations,
    IOptions<TeamsOptions> options,
    TimeProvider time,
    ILogger<TeamsApprovalChannel> logger) : IApprovalChannel, IEscalationChannel
{
    public const string ChannelName = "teams";

    public string Name => ChannelName;

    public async Task ShowAsync(ApprovalView approval, CancellationToken cancellationToken)
    {
        try
        {
            if ((await cardReferences.GetAsync(approval.Id, ChannelName, cancellationToken)).Count > 0)
            {
                return; // already posted (a redelivered ApprovalRequested)
            }

            var channel = await conversations.GetPostingChannelAsync(cancellationToken);
            if (channel is null)
            {
                TeamsLog.NoChannel(logger, approval.Id);
                return;
            }

            var serviceUrl = await conversations.GetServiceUrlAsync(cancellationToken);
            var card = Card(approval);
            var activity = TeamsText.Activity(card, $"Approval needed: {approval.Request.Tool}");
            var created = await connector.CreateConversationAsync(serviceUrl, channel, options.Value.TenantId ?? "", activity, cancellationToken);
            var reference = new TeamsCardReference(created.ConversationId, created.ActivityId, serviceUrl);
            await cardReferences.SaveAsync(approval.Id, ChannelName, reference.ToString(), cancellationToken);
            TeamsLog.CardPosted(logger, approval.Id, approval.Request.Tool, created.ActivityId);

            // Decided, or the agent's call handed back, while the card was on its way: that update found
            // no card to change, so show the current state now.
            if (await readModel.GetAsync(approval.Id, cancellationToken) is { } current && !current.ShowsSameAs(approval))
            {
                await PutEverywhereAsync(current, Card(current), cancellationToken);
            }
        }
        catch (Exception exception) when (TeamsConnectorClient.IsFailure(exception, cancellationToken))
        {
            Report(exception, "post the approval card", approval);
        }
    }

    public async Task UpdateAsync(ApprovalView approval, CancellationToken cancellationToken)
    {
        await PutEverywhereAsync(approval, Card(approval), cancellationToken);
    }

    public async Task ExecutedAsync(ApprovalView approval, CancellationToken cancellationToken)
    {
        // Not while the read model still says Pending (ApprovalExecuted overtook ApprovalResolved): the
        // final card would read "Pending"; the ApprovalResolved update follows and shows both.
        if (approval.Status != ApprovalStatus.Pending)
        {
            await PutEverywhereAsync(approval, TeamsCard.Final(approval, time.GetUtcNow()), cancellationToken);
        }

        var outcome = approval.Succeeded == false || approval.Status == ApprovalStatus.ExecutionFailed
            ? $"⚠️ {approval.Request.Tool} was approved, but the call failed upstream: {approval.ExecutionSummary ?? "no details"}"
            : $"✅ {approval.Request.Tool} ran upstream: {approval.ExecutionSummary ?? "done"}";
        await ReplyInThreadAsync(
            approval,
            PlainMessage(outcome.Length > 2000 ? outcome[..2000] + "…" : outcome),
            "reply with the execution outcome",
            cancellationToken);
    }

    /// <summary>A card in the approval's thread that mentions the Teams users it was escalated to.</summary>
    public async Task EscalatedAsync(ApprovalView approval, IReadOnlyList<string> added, CancellationToken cancellationToken)
    {
        var activity = TeamsText.Activity(TeamsCard.Escalated(approval, added, time.GetUtcNow()), $"Escalated: {approval.Request.Tool}");
        // Mentions travel on the activity (entities with the Entra object id), so the card stays plain Adaptive Card 1.5.
        var mentions = added.Where(p => p.StartsWith("teams:", StringComparison.Ordinal) && p.Length > 6).Select(p => p[6..]).ToList();
        if (mentions.Count > 0)
        {
            activity["text"] = "Escalated to " + string.Join(", ", mentions.Select(id => $"<at>{id}</at>")) + $": nobody has decided on {approval.Request.Tool} yet.";
            activity["entities"] = new JsonArray(mentions.Select(id => (JsonNode)new JsonObject
            {
                ["type"] = "mention",
                ["text"] = $"<at>{id}</at>",
                ["mentioned"] = new JsonObject { ["id"] = id, ["name"] = id },
            }).ToArray());
        }

        await ReplyInThreadAsync(approval, activity, "post the escalation", cancellationToken);
    }

    /// <summary>One reply in the approval's thread when it is about to expire.</summary>
    public Task RemindAsync(ApprovalView approval, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        ReplyInThreadAsync(
            approval,
            PlainMessage($"⏰ {ApprovalText.Reminder(approval.Request.Tool, TeamsText.Time(expiresAt), expiresAt, time.GetUtcNow())}"),
            "post the reminder",
            cancellationToken);

    /// <summary>A plain-text message activity for a thread reply (ReplyInThreadAsync adds replyToId).</summary>
    private static JsonObject PlainMessage(string text) => new()
    {
        ["type"] = "message",
        ["text"] = text,
        ["textFormat"] = "plain",
    };

    private async Task ReplyInThreadAsync(ApprovalView approval, JsonObject activity, string operation, CancellationToken cancellationToken)
    {
        foreach (var reference in await ReferencesAsync(approval, cancellationToken))
        {
            try
            {
                var reply = activity.DeepClone().AsObject();
                reply["replyToId"] = reference.ActivityId;
                await connector.SendToConversationAsync(reference.ServiceUrl, reference.ConversationId, reply, cancellationToken);
            }
            catch (Exception exception) when (TeamsConnectorClient.IsFailure(exception, cancellationToken))
            {
                Report(exception, operation, approval);
            }
        }
    }

    private JsonObject Card(ApprovalView approval) => approval.Status == ApprovalStatus.Pending
        ? TeamsCard.Approval(approval, time.GetUtcNow())
        : TeamsCard.Final(approval, time.GetUtcNow());

    private async Task PutEverywhereAsync(ApprovalView approval, JsonObject card, CancellationToken cancellationToken)
    {
        foreach (var reference in await ReferencesAsync(approval, cancellationToken))
        {
            try
            {
                await connector.UpdateActivityAsync(reference.ServiceUrl, reference.ConversationId, reference.ActivityId, TeamsText.Activity(card.DeepClone().AsObject()), cancellationToken);
                TeamsLog.CardUpdated(logger, approval.Id, approval.Status.ToString());
            }
            catch (Exception exception) when (TeamsConnectorClient.IsFailure(exception, cancellationToken))
            {
                Report(exception, "update the approval card", approval);
            }
        }
    }

    private async Task<IReadOnlyList<TeamsCardReference>> ReferencesAsync(ApprovalView approval, CancellationToken cancellationToken)
    {
        var stored = await cardReferences.GetAsync(approval.Id, ChannelName, cancellationToken);
        var references = new List<TeamsCardReference>(stored.Count);
        foreach (var text in stored)
        {
            if (TeamsCardReference.TryParse(text, out var reference))
            {
                references.Add(reference);
            }
        }

        return references;
    }

    private void Report(Exception exception, string operation, ApprovalView approval)
    {
        if (exception is TeamsConnectorException { WritesBlocked: true })
        {
            TeamsLog.WritesBlocked(logger, $"{operation} for approval {approval.Id}");
        }
        else
        {
            TeamsLog.PostFailed(logger, exception, operation, approval.Id);
        }
    }
}
