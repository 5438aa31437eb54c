using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Button clicks (<c>block_actions</c>: approve, deny, deny with reason, withdraw) and the
/// deny-with-reason dialog (<c>view_submission</c>),
/// from HTTP mode and Socket Mode alike. Answers at once; the decision itself runs on
/// <see cref="SlackWorkQueue"/>. The card changes when the gateway's ApprovalResolved comes back
/// (through <see cref="SlackApprovalChannel.UpdateAsync"/>); the clicker gets the gateway's answer
/// as an ephemeral message. <see cref="IApprovalReadModel"/> and <see cref="IApprovalDecisions"/> are
/// resolved in a scope per piece of work, so they may be scoped services.
/// </summary>
internal sealed class SlackInteractionHandler(
    SlackApiClient api,
    IServiceScopeFactory scopes,
    SlackWorkQueue queue,
    SlackDeliveryDeduplicator deduplicator,
    IOptions<SlackOptions> options,
    ILogger<SlackInteractionHandler> logger)
{
    /// <summary>Handles one interaction payload; returns the JSON to answer Slack with, or null for an empty 200.</summary>
    public JsonNode? Handle(JsonElement payload, string? retryNum = null)
    {
        var type = SlackJson.ReadString(payload, "type");
        switch (type)
        {
            case "block_actions":
                HandleBlockActions(payload, retryNum);
                return null;
            case "view_submission":
                return HandleViewSubmission(payload, retryNum);
            default:
                SlackLog.UnhandledPayload(logger, "interaction", type);
                return null;
        }
    }

    private void HandleBlockActions(JsonElement payload, string? retryNum)
    {
        if (Clicker(payload) is not { } approver)
        {
            SlackLog.UnhandledPayload(logger, "block_actions without a user", null);
            return;
        }

        var channel = SlackJson.ReadString(payload, "container", "channel_id") ?? SlackJson.ReadString(payload, "channel", "id");
        var triggerId = SlackJson.ReadString(payload, "trigger_id");
        if (!payload.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var action in actions.EnumerateArray())
        {
            var actionId = SlackJson.ReadString(action, "action_id");
            // "Approve for 1h": the duration is the rest of the action id; the gateway checks that the approval offers it.
            var grant = actionId?.StartsWith(SlackActionIds.ApproveForPrefix, StringComparison.Ordinal) == true
                ? actionId[SlackActionIds.ApproveForPrefix.Length..]
                : null;
            if (grant is null && actionId is not (SlackActionIds.Approve or SlackActionIds.Deny or SlackActionIds.DenyWithReason or SlackActionIds.Withdraw or SlackActionIds.EditApprove))
            {
                SlackLog.UnhandledPayload(logger, "block_actions", actionId);
                continue;
            }

            if (!Guid.TryParse(SlackJson.ReadString(action, "value"), out var approvalId))
            {
                SlackLog.UnhandledPayload(logger, "block_actions without an approval id", actionId);
                continue;
            }

            var key = $"action|{SlackJson.ReadString(action, "action_ts") ?? triggerId}|{approver.UserId}|{actionId}|{approvalId}";
            if (!deduplicator.TryBegin(key))
            {
                SlackLog.DuplicateDelivery(logger, key, retryNum);
                continue;
            }

            if (actionId == SlackActionIds.DenyWithReason)
            {
                queue.Enqueue($"open the deny dialog for approval {approvalId}",
                    ct => OpenDenyDialogAsync(approvalId, approver, channel, triggerId, ct));
            }
            else if (actionId == SlackActionIds.EditApprove)
            {
                queue.Enqueue($"open the edit dialog for approval {approvalId}",
                    ct => OpenDenyDialogAsync(approvalId, approver, channel, triggerId, ct, edit: true));
            }
            else if (actionId == SlackActionIds.Withdraw)
            {
                queue.Enqueue($"withdraw approval {approvalId} for Slack user {approver.UserId}",
                    ct => DecideAsync(approvalId, false, approver, null, channel, ct, withdraw: true));
            }
            else if (grant is not null)
            {
                queue.Enqueue($"approve approval {approvalId} for {grant} for Slack user {approver.UserId}",
                    ct => DecideAsync(approvalId, true, approver, null, channel, ct, grant: grant));
            }
            else
            {
                var approve = actionId == SlackActionIds.Approve;
                queue.Enqueue($"{(approve ? "approve" : "deny")} approval {approvalId} for Slack user {approver.UserId}",
                    ct => DecideAsync(approvalId, approve, approver, null, channel, ct));
            }
        }
    }

    private JsonNode? HandleViewSubmission(JsonElement payload, string? retryNum)
    {
        if (payload.TryGetProperty("view", out var editView) && SlackJson.ReadString(editView, "callback_id") == SlackActionIds.EditModal)
        {
            return HandleEditSubmission(payload, editView, retryNum);
        }

        if (!payload.TryGetProperty("view", out var view) || SlackJson.ReadString(view, "callback_id") != SlackActionIds.DenyReasonModal)
        {
            SlackLog.UnhandledPayload(logger, "view_submission", payload.TryGetProperty("view", out var v) ? SlackJson.ReadString(v, "callback_id") : null);
            return null;
        }

        if (Clicker(payload) is not { } approver || !TryReadMetadata(SlackJson.ReadString(view, "private_metadata"), out var approvalId, out var channel))
        {
            SlackLog.UnhandledPayload(logger, "view_submission without a user or approval id", SlackActionIds.DenyReasonModal);
            return null;
        }

        var reason = SlackJson.ReadString(view, "state", "values", SlackActionIds.ReasonBlock, SlackActionIds.ReasonInput, "value")?.Trim();
        if (string.IsNullOrEmpty(reason))
        {
            return new JsonObject
            {
                ["response_action"] = "errors",
                ["errors"] = new JsonObject { [SlackActionIds.ReasonBlock] = "Please say why the call is denied." },
            };
        }

        var key = $"view|{SlackJson.ReadString(view, "id") ?? SlackJson.ReadString(payload, "trigger_id")}|{approver.UserId}|{approvalId}";
        if (!deduplicator.TryBegin(key))
        {
            SlackLog.DuplicateDelivery(logger, key, retryNum);
            return null;
        }

        queue.Enqueue($"deny approval {approvalId} with a reason for Slack user {approver.UserId}",
            ct => DecideAsync(approvalId, false, approver, reason, channel, ct));
        return null;
    }

    /// <summary>The edit dialog submitted: checked for JSON at once (errors stay in the dialog), then approved with the edit.</summary>
    private JsonNode? HandleEditSubmission(JsonElement payload, JsonElement view, string? retryNum)
    {
        if (Clicker(payload) is not { } approver || !TryReadMetadata(SlackJson.ReadString(view, "private_metadata"), out var approvalId, out var channel))
        {
            SlackLog.UnhandledPayload(logger, "view_submission without a user or approval id", SlackActionIds.EditModal);
            return null;
        }

        var edited = SlackJson.ReadString(view, "state", "values", SlackActionIds.ArgumentsBlock, SlackActionIds.ArgumentsInput, "value") ?? "";
        if (BusApprovalDecisions.EditProblem(edited) is { } problem)
        {
            return new JsonObject
            {
                ["response_action"] = "errors",
                ["errors"] = new JsonObject { [SlackActionIds.ArgumentsBlock] = SlackText.Plain(char.ToUpperInvariant(problem[0]) + problem[1..] + ".", 2000) },
            };
        }

        var key = $"view|{SlackJson.ReadString(view, "id") ?? SlackJson.ReadString(payload, "trigger_id")}|{approver.UserId}|{approvalId}";
        if (!deduplicator.TryBegin(key))
        {
            SlackLog.DuplicateDelivery(logger, key, retryNum);
            return null;
        }

        queue.Enqueue($"approve approval {approvalId} with edited arguments for Slack user {approver.UserId}",
            ct => DecideAsync(approvalId, true, approver, null, channel, ct, edited: edited));
        return null;
    }

    /// <param name="withdraw">Withdraw instead of deciding: the same checks and path, and the gateway ends it as Cancelled.</param>
    /// <param name="grant">Approve for a while (a duration the approval offers).</param>
    /// <param name="edited">Edit, then approve: the arguments as changed in the dialog.</param>
    private async Task DecideAsync(
        Guid approvalId, bool approve, Approver approver, string? comment, string? channel, CancellationToken cancellationToken,
        bool withdraw = false, string? grant = null, string? edited = null)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (await AllowedAsync(scope.ServiceProvider, approvalId, approver, channel, cancellationToken).ConfigureAwait(false) is null)
        {
            return;
        }

        ApprovalDecisionOutcome outcome;
        try
        {
            var decisions = scope.ServiceProvider.GetRequiredService<IApprovalDecisions>();
            outcome = await decisions.DecideAsync(new DecisionCommand(approvalId, approve, approver, comment, "slack", withdraw, grant, edited), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            SlackLog.DecisionFailed(logger, e, approver.UserId, approvalId);
            await EphemeralAsync(channel, approver.UserId, approvalId,
                $"Your decision on approval `{approvalId}` did not reach the gateway; please try again.", cancellationToken).ConfigureAwait(false);
            return;
        }

        SlackLog.DecisionSent(logger, approver.UserId, approver.TenantId, withdraw ? "withdrew" : approve ? "approved" : "denied", approvalId, outcome.Message);
        await EphemeralAsync(channel, approver.UserId, approvalId, SlackText.Escape(outcome.Message), cancellationToken).ConfigureAwait(false);
    }

    /// <param name="edit">Open the edit dialog instead (edit, then approve).</param>
    private async Task OpenDenyDialogAsync(Guid approvalId, Approver approver, string? channel, string? triggerId, CancellationToken cancellationToken, bool edit = false)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (await AllowedAsync(scope.ServiceProvider, approvalId, approver, channel, cancellationToken).ConfigureAwait(false) is not { } view)
        {
            return;
        }

        if (view.Status != ApprovalStatus.Pending)
        {
            var by = view.DecidedBy is null ? "" : $" by {view.DecidedBy.DisplayName}";
            await EphemeralAsync(channel, approver.UserId, approvalId,
                SlackText.Escape($"Already {ApprovalJudge.Describe(view.Status)}{by}."), cancellationToken).ConfigureAwait(false);
            return;
        }

        if (string.IsNullOrEmpty(triggerId))
        {
            SlackLog.ModalFailed(logger, approver.UserId, approvalId, "no trigger_id");
            return;
        }

        var modal = edit ? SlackCard.EditModal(view, channel) : SlackCard.DenyReasonModal(view, channel);
        if (modal is null || (edit && !view.Request.Editable))
        {
            await EphemeralAsync(channel, approver.UserId, approvalId,
                edit && !view.Request.Editable ? "The arguments of this call may not be edited." : "The arguments are too long to edit in Slack; use the console.", cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await api.OpenViewAsync(triggerId, modal, cancellationToken).ConfigureAwait(false);
        }
        catch (SlackApiException e)
        {
            SlackLog.ModalFailed(logger, approver.UserId, approvalId, e.Error);
            await EphemeralAsync(channel, approver.UserId, approvalId,
                "The deny-with-reason dialog could not be opened; press *Deny with reason* again, or *Deny*.", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The approval when <paramref name="approver"/> may decide it; otherwise tells them why not and returns null.</summary>
    private async Task<ApprovalView?> AllowedAsync(IServiceProvider services, Guid approvalId, Approver approver, string? channel, CancellationToken cancellationToken)
    {
        var readModel = services.GetRequiredService<IApprovalReadModel>();
        var view = await readModel.GetAsync(approvalId, cancellationToken).ConfigureAwait(false);
        if (view is null)
        {
            SlackLog.UnknownApproval(logger, approvalId);
            await EphemeralAsync(channel, approver.UserId, approvalId,
                $"ApprovalBot does not know approval `{approvalId}`.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        // A shared (Slack Connect) channel has members of other workspaces: only the configured ones may decide.
        var teams = options.Value.TeamIds;
        if (!ApprovalJudge.MayDecide(view.Request.Approvers, approver)
            || (teams.Length > 0 && !teams.Contains(approver.TenantId, StringComparer.Ordinal)))
        {
            SlackLog.NotAnApprover(logger, approver.UserId, approver.TenantId, approvalId, view.Request.Tool);
            await EphemeralAsync(channel, approver.UserId, approvalId,
                $"You are not an approver for {SlackText.Short(view.Request.Tool, 200)} (approval {approvalId}).", cancellationToken).ConfigureAwait(false);
            return null;
        }

        return view;
    }

    private async Task EphemeralAsync(string? channel, string user, Guid approvalId, string text, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(channel))
        {
            return;
        }

        try
        {
            await api.PostEphemeralAsync(channel, user, text, cancellationToken).ConfigureAwait(false);
        }
        catch (SlackApiException e)
        {
            SlackLog.EphemeralFailed(logger, user, approvalId, e.Error);
        }
    }

    /// <summary>Who clicked: user id + team id identify them; the name is for display only.</summary>
    private static Approver? Clicker(JsonElement payload)
    {
        var userId = SlackJson.ReadString(payload, "user", "id");
        if (string.IsNullOrEmpty(userId))
        {
            return null;
        }

        var name = SlackJson.ReadString(payload, "user", "name") ?? SlackJson.ReadString(payload, "user", "username") ?? userId;
        var team = SlackJson.ReadString(payload, "team", "id") ?? SlackJson.ReadString(payload, "user", "team_id");
        return new Approver("slack", userId, name, team);
    }

    /// <summary>The dialog's private_metadata: <c>{"approval_id","channel_id"}</c>, or just the approval id.</summary>
    internal static bool TryReadMetadata(string? metadata, out Guid approvalId, out string? channel)
    {
        channel = null;
        if (Guid.TryParse(metadata, out approvalId))
        {
            return true;
        }

        if (string.IsNullOrEmpty(metadata))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(metadata);
            channel = SlackJson.ReadString(document.RootElement, "channel_id");
            return Guid.TryParse(SlackJson.ReadString(document.RootElement, "approval_id"), out approvalId);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
