using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// Card clicks: <c>adaptiveCard/action</c> invokes (Approve, Approve for …, Deny, Withdraw on
/// <c>Action.Execute</c>; Revoke on the grants list), answered with the card the clicker sees next,
/// and <c>Action.Submit</c> messages from clients without Universal Actions, answered with a reply.
/// Checks who clicked, then sends the decision to the gateway through <see cref="IApprovalDecisions"/>
/// (a revocation through <see cref="IGrantCommands"/>).
/// </summary>
internal sealed class TeamsInteractionHandler(
    IApprovalReadModel readModel,
    IApprovalDecisions decisions,
    TeamsConnectorClient connector,
    IOptions<TeamsOptions> options,
    TimeProvider time,
    ILogger<TeamsInteractionHandler> logger,
    IGrantReadModel? grantReadModel = null,
    IGrantCommands? grantCommands = null)
{
    private const string NotDelivered = "The decision could not be delivered to the gateway. Nothing was decided; try again.";

    private sealed record CardAction(string Verb, Guid ApprovalId, string? Comment, string? Grant = null, string? EditedArguments = null);

    private abstract record DecisionResult;

    private sealed record Refused(string Title, string Message, ApprovalView? View) : DecisionResult;

    private sealed record Decided(ApprovalDecisionOutcome Outcome, JsonObject Card) : DecisionResult;

    private sealed record Failed : DecisionResult;

    /// <summary>An <c>adaptiveCard/action</c> invoke: the answer replaces the clicker's card.</summary>
    public async Task<IResult> InvokeAsync(TeamsActivity activity, CancellationToken cancellationToken)
    {
        // value: { action: { type: "Action.Execute", verb, data: { approvalId, comment } }, trigger }
        var action = activity.Value is { ValueKind: JsonValueKind.Object } value && value.TryGetProperty("action", out var a) ? a : default;
        var verb = TeamsActivity.String(action, "verb");
        var data = action.ValueKind == JsonValueKind.Object && action.TryGetProperty("data", out var d) ? d : default;
        if (verb == TeamsCard.RevokeGrantVerb && Guid.TryParse(TeamsActivity.String(data, "grantId"), out var grantId))
        {
            var (_, card) = await RevokeAsync(activity, grantId, cancellationToken);
            return Json(TeamsInvokeResponse.Card(card));
        }

        if (Parse(verb, data) is not { } parsed)
        {
            TeamsLog.BadAction(logger);
            return Json(TeamsInvokeResponse.Error(400, "BadRequest", "This card action is not one ApprovalBot understands."));
        }

        return await DecideAsync(activity, parsed, cancellationToken) switch
        {
            Refused refused => Json(TeamsInvokeResponse.Card(TeamsCard.Error(refused.Title, refused.Message, refused.View))),
            Decided decided => Json(TeamsInvokeResponse.Card(decided.Card)),
            _ => Json(TeamsInvokeResponse.Error(500, "DecisionFailed", NotDelivered)),
        };
    }

    /// <summary>
    /// <c>Action.Submit</c> (the fallback of old clients): a message whose value is <c>{action, approvalId, comment}</c>.
    /// False when the message is not one (then it is a text command).
    /// </summary>
    public async Task<bool> TrySubmitAsync(TeamsActivity activity, CancellationToken cancellationToken)
    {
        if (activity.Value is not { ValueKind: JsonValueKind.Object } value || TeamsActivity.String(value, "action") is not { } verb)
        {
            return false;
        }

        if (verb == TeamsCard.RevokeGrantVerb && Guid.TryParse(TeamsActivity.String(value, "grantId"), out var grantId))
        {
            var (message, _) = await RevokeAsync(activity, grantId, cancellationToken);
            await connector.ReplyAsync(activity, new JsonObject { ["type"] = "message", ["text"] = message, ["textFormat"] = "plain" }, "Action.Submit", cancellationToken);
            return true;
        }

        if (Parse(verb, value) is not { } action || action.ApprovalId == Guid.Empty)
        {
            TeamsLog.BadAction(logger);
            return true;
        }

        var text = await DecideAsync(activity, action, cancellationToken) switch
        {
            Refused refused => $"{refused.Title}: {refused.Message}",
            Decided decided => decided.Outcome.Message,
            _ => NotDelivered,
        };

        // The card itself is updated for everyone when the approval is resolved (UpdateAsync).
        var reply = new JsonObject { ["type"] = "message", ["text"] = text, ["textFormat"] = "plain" };
        await connector.ReplyAsync(activity, reply, "Action.Submit", cancellationToken);
        return true;
    }

    private static CardAction? Parse(string? verb, JsonElement data)
    {
        if (verb is not (TeamsCard.ApproveVerb or TeamsCard.DenyVerb or TeamsCard.WithdrawVerb)
            || TeamsActivity.String(data, "approvalId") is not { } idText
            || !Guid.TryParse(idText, out var id))
        {
            return null;
        }

        var comment = TeamsActivity.String(data, TeamsCard.CommentInputId)?.Trim();
        if (string.IsNullOrEmpty(comment))
        {
            comment = null;
        }
        else if (comment.Length > TeamsCard.MaxCommentLength)
        {
            comment = comment[..TeamsCard.MaxCommentLength];
        }

        // "Approve for 1h": the gateway checks that the approval offers the duration.
        var grant = verb == TeamsCard.ApproveVerb ? TeamsActivity.String(data, TeamsCard.GrantDataKey)?.Trim() : null;
        // "Approve with these arguments" (inside "Edit, then approve"): the input comes merged into the data.
        var edited = verb == TeamsCard.ApproveVerb && data.ValueKind == JsonValueKind.Object
            && data.TryGetProperty(TeamsCard.EditDataKey, out var flag) && flag.ValueKind == JsonValueKind.True
            ? TeamsActivity.String(data, TeamsCard.ArgumentsInputId) ?? ""
            : null;
        return new CardAction(verb, id, comment, string.IsNullOrEmpty(grant) ? null : grant, edited);
    }

    /// <summary>
    /// Revokes a grant for whoever clicked or typed "policy revoke ID": the same identity checks as a
    /// decision; the gateway checks again that they gave the grant or approve for its tool.
    /// Returns the sentence for them and the grants list with that sentence on top.
    /// </summary>
    public async Task<(string Message, JsonObject Card)> RevokeAsync(TeamsActivity activity, Guid grantId, CancellationToken cancellationToken)
    {
        var aadObjectId = activity.FromAadObjectId;
        string message;
        if (string.IsNullOrWhiteSpace(aadObjectId) || !options.Value.IsOwnTenant(activity.TenantId))
        {
            TeamsLog.DecisionRefused(logger, TeamsCard.RevokeGrantVerb, grantId, aadObjectId, activity.TenantId, "unknown or foreign user");
            message = "Teams did not say who you are in ApprovalBot's tenant, so nothing was revoked.";
        }
        else if (grantCommands is null || grantReadModel is null)
        {
            message = "Grants are not available on this bot; nothing was revoked.";
        }
        else
        {
            var name = string.IsNullOrWhiteSpace(activity.FromName) ? $"Teams user {aadObjectId}" : activity.FromName;
            try
            {
                var outcome = await grantCommands.RevokeAsync(new GrantRevokeCommand(grantId, new Approver("teams", aadObjectId, name, activity.TenantId), null, "teams"), cancellationToken);
                TeamsLog.DecisionSent(logger, TeamsCard.RevokeGrantVerb, grantId, "teams:" + aadObjectId, outcome.Message);
                message = outcome.Message;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                TeamsLog.DecisionFailed(logger, exception, grantId);
                message = "The revocation could not be delivered to the gateway. Nothing was revoked; try again.";
            }
        }

        var now = time.GetUtcNow();
        if (grantReadModel is null)
        {
            return (message, TeamsStatusCard.Grants([], 0, now, message));
        }

        var (active, total) = await grantReadModel.ListActiveGrantsAsync(now, TeamsCommandHandler.StatusPendingLimit, cancellationToken);
        // The answer arrives before the gateway's GrantEnded reaches the read model: leave the revoked grant out already.
        var shown = active.Where(g => g.Id != grantId || !message.StartsWith("Grant revoked", StringComparison.Ordinal)).ToList();
        return (message, TeamsStatusCard.Grants(shown, total - (active.Count - shown.Count), now, message));
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

        if (!options.Value.IsOwnTenant(tenantId))
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
                new DecisionCommand(action.ApprovalId, action.Verb == TeamsCard.ApproveVerb, approver, action.Comment, "teams", Withdraw: action.Verb == TeamsCard.WithdrawVerb, Grant: action.Grant, EditedArguments: action.EditedArguments),
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
            return TeamsCard.Approval(view, now, outcome.Message); // quorum not reached, or the gateway refused
        }

        if (outcome.Accepted)
        {
            return TeamsCard.Final(view with { Status = status, DecidedBy = approver, Comment = comment, ResolvedAt = now, GrantId = outcome.GrantId, GrantUntil = outcome.GrantUntil }, now, outcome.Message);
        }

        // Someone (or expiry) got there first: show what the bot knows of that.
        var current = await readModel.GetAsync(view.Id, cancellationToken) ?? view;
        return TeamsCard.Final(current.Status == ApprovalStatus.Pending ? current with { Status = status } : current, now, outcome.Message);
    }

    private static IResult Json(JsonObject body) => Results.Text(body.ToJsonString(), "application/json; charset=utf-8", statusCode: 200);
}
