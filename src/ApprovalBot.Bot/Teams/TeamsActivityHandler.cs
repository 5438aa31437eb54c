using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// Acts on an activity whose token already passed <see cref="TeamsTokenValidator"/>: card clicks
/// (<c>adaptiveCard/action</c> invokes and <c>Action.Submit</c> messages), text commands
/// ("policy status"), and installation events (conversation references).
/// </summary>
internal sealed partial class TeamsActivityHandler(
    IApprovalReadModel readModel,
    IApprovalDecisions decisions,
    IStatusReport statusReport,
    TeamsConversationStore conversations,
    TeamsConnectorClient connector,
    IOptions<TeamsOptions> options,
    TimeProvider time,
    ILogger<TeamsActivityHandler> logger)
{
    public const string TeamsChannelId = "msteams";
    public const string CardActionInvokeName = "adaptiveCard/action";
    public const int StatusPendingLimit = 10;

    public async Task<IResult> HandleAsync(TeamsActivity activity, CancellationToken cancellationToken)
    {
        if (!string.Equals(activity.ChannelId, TeamsChannelId, StringComparison.Ordinal))
        {
            return Results.Ok(); // endorsed, but not a channel this bot serves (e.g. Web Chat)
        }

        var ownTenant = IsOwnTenant(activity.TenantId);
        switch (activity.Type)
        {
            case "invoke" when string.Equals(activity.Name, CardActionInvokeName, StringComparison.Ordinal):
                return await CardActionAsync(activity, cancellationToken);

            case "invoke":
                return Results.Ok();

            case "message" when !ownTenant:
            case "conversationUpdate" when !ownTenant:
            case "installationUpdate" when !ownTenant:
                TeamsLog.ForeignTenant(logger, activity.Type, activity.TenantId);
                return Results.Ok();

            case "message":
                await conversations.RememberAsync(activity, installation: false, cancellationToken);
                if (SubmitAction(activity) is { } submit)
                {
                    await SubmitAsync(activity, submit, cancellationToken);
                }
                else
                {
                    await CommandAsync(activity, cancellationToken);
                }

                return Results.Ok();

            case "conversationUpdate":
                var installed = activity.RecipientId is { } bot && activity.MembersAdded.Contains(bot, StringComparer.Ordinal);
                await conversations.RememberAsync(activity, installed, cancellationToken);
                return Results.Ok();

            case "installationUpdate":
                await conversations.RememberAsync(activity, string.Equals(activity.Action, "add", StringComparison.OrdinalIgnoreCase), cancellationToken);
                return Results.Ok();

            default:
                return Results.Ok();
        }
    }

    private bool IsOwnTenant(string? tenantId) =>
        !string.IsNullOrEmpty(tenantId) && string.Equals(tenantId, options.Value.TenantId, StringComparison.OrdinalIgnoreCase);

    // ---- clicks -------------------------------------------------------------------------------

    private sealed record CardAction(string Verb, Guid ApprovalId, string? Comment);

    private abstract record DecisionResult;

    private sealed record Refused(string Title, string Message, ApprovalView? View) : DecisionResult;

    private sealed record Decided(ApprovalDecisionOutcome Outcome, JsonObject Card) : DecisionResult;

    private sealed record Failed : DecisionResult;

    private async Task<IResult> CardActionAsync(TeamsActivity activity, CancellationToken cancellationToken)
    {
        // value: { action: { type: "Action.Execute", verb, data: { approvalId, comment } }, trigger }
        var action = activity.Value is { ValueKind: JsonValueKind.Object } value && value.TryGetProperty("action", out var a) ? a : default;
        var verb = TeamsActivity.String(action, "verb");
        var data = action.ValueKind == JsonValueKind.Object && action.TryGetProperty("data", out var d) ? d : default;
        if (Parse(verb, data) is not { } parsed)
        {
            TeamsLog.BadAction(logger);
            return Json(TeamsCards.InvokeErrorResponse(400, "BadRequest", "This card action is not one ApprovalBot understands."));
        }

        return await DecideAsync(activity, parsed, cancellationToken) switch
        {
            Refused refused => Json(TeamsCards.InvokeCardResponse(TeamsCards.Error(refused.Title, refused.Message, refused.View))),
            Decided decided => Json(TeamsCards.InvokeCardResponse(decided.Card)),
            _ => Json(TeamsCards.InvokeErrorResponse(500, "DecisionFailed", "The decision could not be delivered to the gateway. Nothing was decided; try again.")),
        };
    }

    /// <summary><c>Action.Submit</c> (the fallback of old clients): a message whose value is <c>{action, approvalId, comment}</c>.</summary>
    private static CardAction? SubmitAction(TeamsActivity activity) =>
        activity.Value is { ValueKind: JsonValueKind.Object } value && TeamsActivity.String(value, "action") is { } verb
            ? Parse(verb, value) ?? new CardAction("", Guid.Empty, null)
            : null;

    private async Task SubmitAsync(TeamsActivity activity, CardAction action, CancellationToken cancellationToken)
    {
        if (action.ApprovalId == Guid.Empty)
        {
            TeamsLog.BadAction(logger);
            return;
        }

        var text = await DecideAsync(activity, action, cancellationToken) switch
        {
            Refused refused => $"{refused.Title}: {refused.Message}",
            Decided decided => decided.Outcome.Message,
            _ => "The decision could not be delivered to the gateway. Nothing was decided; try again.",
        };

        // The card itself is updated for everyone when the approval is resolved (UpdateAsync).
        var reply = new JsonObject { ["type"] = "message", ["text"] = text, ["textFormat"] = "plain" };
        await ReplyAsync(activity, reply, "Action.Submit", cancellationToken);
    }

    private static CardAction? Parse(string? verb, JsonElement data)
    {
        if (verb is not (TeamsCards.ApproveVerb or TeamsCards.DenyVerb or TeamsCards.WithdrawVerb)
            || TeamsActivity.String(data, "approvalId") is not { } idText
            || !Guid.TryParse(idText, out var id))
        {
            return null;
        }

        var comment = TeamsActivity.String(data, TeamsCards.CommentInputId)?.Trim();
        if (string.IsNullOrEmpty(comment))
        {
            comment = null;
        }
        else if (comment.Length > TeamsCards.MaxCommentLength)
        {
            comment = comment[..TeamsCards.MaxCommentLength];
        }

        return new CardAction(verb, id, comment);
    }

    private async Task<DecisionResult> DecideAsync(TeamsActivity activity, CardAction action, CancellationToken cancellationToken)
    {
        var aadObjectId = activity.FromAadObjectId;
        var tenantId = activity.TenantId;
        var view = await readModel.GetAsync(action.ApprovalId, cancellationToken);
        if (view is null)
        {
            TeamsLog.DecisionRefused(logger, action.Verb, action.ApprovalId, aadObjectId, tenantId, "unknown approval");
            return new Refused("Unknown approval", $"Approval {action.ApprovalId} is not known to ApprovalBot. Nothing was decided.", null);
        }

        if (string.IsNullOrWhiteSpace(aadObjectId))
        {
            TeamsLog.DecisionRefused(logger, action.Verb, action.ApprovalId, aadObjectId, tenantId, "no aadObjectId");
            return new Refused("Not allowed", "Teams did not say who you are (no Entra object id), so ApprovalBot cannot check that you may decide. Nothing was decided.", view);
        }

        if (!IsOwnTenant(tenantId))
        {
            TeamsLog.DecisionRefused(logger, action.Verb, action.ApprovalId, aadObjectId, tenantId, "foreign tenant");
            return new Refused("Not allowed", "You are signed in to a different Microsoft Entra tenant than ApprovalBot's. Nothing was decided.", view);
        }

        var name = string.IsNullOrWhiteSpace(activity.FromName) ? $"Teams user {aadObjectId}" : activity.FromName;
        var approver = new Approver("teams", aadObjectId, name, tenantId);
        if (!ApprovalJudge.MayDecide(view.Request.Approvers, approver))
        {
            TeamsLog.DecisionRefused(logger, action.Verb, action.ApprovalId, aadObjectId, tenantId, "not an approver");
            return new Refused("Not an approver", $"{name} is not an approver for {view.Request.Tool}. Nothing was decided.", view);
        }

        ApprovalDecisionOutcome outcome;
        try
        {
            // Withdraw takes the same path and checks as approve/deny; the gateway ends it as Cancelled.
            outcome = await decisions.DecideAsync(
                new DecisionCommand(action.ApprovalId, action.Verb == TeamsCards.ApproveVerb, approver, action.Comment, "teams", Withdraw: action.Verb == TeamsCards.WithdrawVerb),
                cancellationToken);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            TeamsLog.DecisionFailed(logger, exception, action.ApprovalId);
            return new Failed();
        }

        TeamsLog.DecisionSent(logger, action.Verb, action.ApprovalId, approver.Principal, outcome.Message);
        return new Decided(outcome, await OutcomeCardAsync(view, approver, action.Comment, outcome, cancellationToken));
    }

    private async Task<JsonObject> OutcomeCardAsync(ApprovalView view, Approver approver, string? comment, ApprovalDecisionOutcome outcome, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var status = Enum.TryParse<ApprovalStatus>(outcome.Status, ignoreCase: true, out var parsed) ? parsed : view.Status;
        if (status == ApprovalStatus.Pending)
        {
            return TeamsCards.Approval(view, now, outcome.Message); // quorum not reached, or the gateway refused
        }

        if (outcome.Accepted)
        {
            return TeamsCards.Final(view with { Status = status, DecidedBy = approver, Comment = comment, ResolvedAt = now }, now, outcome.Message);
        }

        // Someone (or expiry) got there first: show what the bot knows of that.
        var current = await readModel.GetAsync(view.Id, cancellationToken) ?? view;
        return TeamsCards.Final(current.Status == ApprovalStatus.Pending ? current with { Status = status } : current, now, outcome.Message);
    }

    // ---- text commands ------------------------------------------------------------------------

    private async Task CommandAsync(TeamsActivity activity, CancellationToken cancellationToken)
    {
        var command = NormalizeCommand(activity.Text);
        if (command.Length == 0)
        {
            return;
        }

        JsonObject card;
        string name;
        switch (command)
        {
            case "policy status" or "status":
                card = TeamsCards.Status(await statusReport.GetAsync(StatusPendingLimit, cancellationToken));
                name = "policy status";
                break;
            case "policy pending" or "pending":
                card = TeamsCards.Pending(await statusReport.GetAsync(StatusPendingLimit, cancellationToken));
                name = "policy pending";
                break;
            default:
                card = TeamsCards.Help();
                name = "help";
                break;
        }

        TeamsLog.Command(logger, name);
        await ReplyAsync(activity, TeamsCards.Activity(card), name, cancellationToken);
    }

    /// <summary>"&lt;at&gt;ApprovalBot&lt;/at&gt; Policy&amp;nbsp;Status" → "policy status".</summary>
    internal static string NormalizeCommand(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        var stripped = MentionPattern().Replace(text, " ");
        stripped = TagPattern().Replace(stripped, " ");
        stripped = WebUtility.HtmlDecode(stripped);
        stripped = WhitespacePattern().Replace(stripped, " ").Trim().TrimStart('/').Trim();
        return stripped.ToLowerInvariant();
    }

    private async Task ReplyAsync(TeamsActivity activity, JsonObject reply, string command, CancellationToken cancellationToken)
    {
        if (activity.ServiceUrl is null || activity.ConversationId is null)
        {
            return;
        }

        if (activity.Id is { Length: > 0 } id)
        {
            reply["replyToId"] = id;
        }

        try
        {
            await connector.SendToConversationAsync(activity.ServiceUrl, activity.ConversationId, reply, cancellationToken);
        }
        catch (Exception exception) when (TeamsConnectorClient.IsFailure(exception, cancellationToken))
        {
            if (exception is TeamsConnectorException { WritesBlocked: true })
            {
                TeamsLog.WritesBlocked(logger, "reply to a " + command + " command");
            }
            else
            {
                TeamsLog.ReplyFailed(logger, exception, command);
            }
        }
    }

    private static IResult Json(JsonObject body) => Results.Text(body.ToJsonString(), "application/json; charset=utf-8", statusCode: 200);

    [GeneratedRegex(@"<at\b[^>]*>.*?</at>", RegexOptions.IgnoreCase | RegexOptions.Singleline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex MentionPattern();

    [GeneratedRegex(@"<[^>]{0,200}>", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"\s+", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex WhitespacePattern();
}
