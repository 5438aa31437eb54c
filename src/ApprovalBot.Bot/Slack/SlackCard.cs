using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Core.Approvals;
using static ApprovalBot.Bot.Slack.SlackText;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Builds the Block Kit approval card. Everything shown comes from <see cref="ApprovalView"/>, whose
/// arguments are already redacted; free text is escaped and cut so the message stays far below
/// Slack's limits (3000 characters a section, about 13k a message).
/// </summary>
internal static class SlackCard
{
    /// <summary>The longest argument dump shown, escaped, inside the code block.</summary>
    public const int MaxArgumentsChars = 2600;

    private const int MaxNameChars = 200;
    private const int MaxReasonChars = 1000;
    private const int MaxApproversShown = 20;
    private const int MaxCommentChars = 1500;

    /// <summary>The message for the approval's current state: with buttons while pending, without after.</summary>
    /// <param name="now">The channel's clock: decides whether a collect-by time needs its date.</param>
    public static JsonArray Blocks(ApprovalView approval, DateTimeOffset now)
    {
        var request = approval.Request;
        var blocks = new JsonArray
        {
            Header($"{HeaderWord(approval)}: {request.Tool}"),
            Fields(
                $"*Tool*\n`{Short(request.Tool, MaxNameChars)}`",
                $"*Upstream*\n{Short(request.Upstream, MaxNameChars)}",
                $"*Agent*\n{Short(request.Agent, MaxNameChars)}",
                $"*Expires*\n{Date(request.ExpiresAt)}"),
        };

        if (!string.IsNullOrWhiteSpace(request.Reason))
        {
            blocks.Add(Section($"*Why it needs approval*\n{Short(request.Reason, MaxReasonChars)}"));
        }

        blocks.Add(Section($"*Arguments*\n```{Arguments(request.RedactedArguments)}```"));
        blocks.Add(Section($"*Who may approve*\n{Approvers(request.Approvers, request.ApprovalsRequired)}"));
        blocks.Add(Context(
            $"Approval `{request.ApprovalId}` · requested {Date(request.RequestedAt)} · gateway {Short(request.GatewayInstance, MaxNameChars)} · digest `{Short(request.ArgumentDigest, 16)}`"));

        if (approval.Status == ApprovalStatus.Pending)
        {
            if (approval.DecidedBy is not null)
            {
                blocks.Add(Section($":hourglass_flowing_sand: Approval recorded from {Who(approval.DecidedBy)}; {request.ApprovalsRequired} approvals are needed in all.", "approvalbot_progress"));
            }

            if (approval.EscalatedAt is not null)
            {
                blocks.Add(Section($":rotating_light: *Escalated* to {string.Join(", ", (approval.EscalatedTo ?? []).Take(MaxApproversShown).Select(Principal))}: nobody decided in time.", SlackActionIds.EscalatedBlock));
            }

            blocks.Add(Section(Waiting(approval), SlackActionIds.WaitingBlock));
            blocks.Add(Actions(approval));
        }
        else
        {
            blocks.Add(Divider());
            blocks.Add(Section(Outcome(approval, now), SlackActionIds.OutcomeBlock));
            if (approval.EditedArguments is { } edited)
            {
                blocks.Add(Section($"*{ApprovalText.ApprovedWithChangedArguments}* {ApprovalText.HiddenValuesUnchanged}\n```{Arguments(edited)}```", SlackActionIds.EditedBlock));
            }

            if (approval.GrantUntil is { } until && approval.GrantId is { } grantId)
            {
                blocks.Add(Section(
                    $":stopwatch: *{ApprovalText.ApprovedForAWhile}*: {ApprovalText.GrantLetsThrough(Short(request.Agent, MaxNameChars), $"`{Short(request.Tool, MaxNameChars)}`", request.GrantScope, Date(until))}\n"
                    + $"Grant `{grantId}` · revoke with `/policy revoke {grantId}`",
                    SlackActionIds.GrantBlock));
            }
        }

        return blocks;
    }

    /// <summary>The notification text (shown in notifications and where blocks cannot be).</summary>
    public static string FallbackText(ApprovalView approval)
    {
        var request = approval.Request;
        var tool = Plain(request.Tool, MaxNameChars);
        var agent = Plain(request.Agent, MaxNameChars);
        return approval.Status switch
        {
            ApprovalStatus.Pending => $"Approval needed: {tool} requested by {agent}",
            _ => $"{HeaderWord(approval)}: {tool} requested by {agent}",
        };
    }

    /// <summary>The longest JSON the edit dialog can hold (Slack's plain_text_input limit).</summary>
    public const int MaxEditChars = 3000;

    /// <summary>
    /// The edit dialog: the arguments as the card shows them, in a text input, to change and approve.
    /// Null when they are too long for the input (then the card's other buttons remain).
    /// </summary>
    public static JsonObject? EditModal(ApprovalView approval, string? channelId)
    {
        var json = Pretty(approval.Request.RedactedArguments);
        if (json.Length > MaxEditChars)
        {
            return null;
        }

        return new JsonObject
        {
            ["type"] = "modal",
            ["callback_id"] = SlackActionIds.EditModal,
            ["private_metadata"] = new JsonObject { ["approval_id"] = approval.Id.ToString(), ["channel_id"] = channelId }.ToJsonString(),
            ["title"] = PlainText("Edit, then approve", 24),
            ["submit"] = PlainText("Approve", 24),
            ["close"] = PlainText("Cancel", 24),
            ["blocks"] = new JsonArray
            {
                Section($"Change the arguments of `{Short(approval.Request.Tool, MaxNameChars)}` requested by {Short(approval.Request.Agent, MaxNameChars)}, then approve. "
                    + ApprovalText.KeepHiddenValues($"`{Core.Redaction.SecretRedactor.Mask}`")),
                new JsonObject
                {
                    ["type"] = "input",
                    ["block_id"] = SlackActionIds.ArgumentsBlock,
                    ["label"] = PlainText("Arguments (JSON)", 2000),
                    ["element"] = new JsonObject
                    {
                        ["type"] = "plain_text_input",
                        ["action_id"] = SlackActionIds.ArgumentsInput,
                        ["multiline"] = true,
                        ["max_length"] = MaxEditChars,
                        ["initial_value"] = json,
                    },
                },
            },
        };
    }

    /// <summary>The deny-with-reason dialog; <c>private_metadata</c> carries the approval id and the card's channel.</summary>
    public static JsonObject DenyReasonModal(ApprovalView approval, string? channelId) => new()
    {
        ["type"] = "modal",
        ["callback_id"] = SlackActionIds.DenyReasonModal,
        ["private_metadata"] = new JsonObject { ["approval_id"] = approval.Id.ToString(), ["channel_id"] = channelId }.ToJsonString(),
        ["title"] = PlainText("Deny with reason", 24),
        ["submit"] = PlainText("Deny", 24),
        ["close"] = PlainText("Cancel", 24),
        ["blocks"] = new JsonArray
        {
            Section($"Deny `{Short(approval.Request.Tool, MaxNameChars)}` requested by {Short(approval.Request.Agent, MaxNameChars)}? The agent is told your reason."),
            new JsonObject
            {
                ["type"] = "input",
                ["block_id"] = SlackActionIds.ReasonBlock,
                ["label"] = PlainText("Reason", 2000),
                ["element"] = new JsonObject
                {
                    ["type"] = "plain_text_input",
                    ["action_id"] = SlackActionIds.ReasonInput,
                    ["multiline"] = true,
                    ["max_length"] = MaxCommentChars,
                    ["placeholder"] = PlainText("Why is this call refused?", 150),
                },
            },
        },
    };

    /// <summary>Indented; shown as sent when it is not JSON.</summary>
    private static string Pretty(string json) => ApprovalText.Pretty(json) ?? json;

    internal static string Arguments(string redactedArguments)
    {
        var pretty = Pretty(redactedArguments);

        // A ``` inside the dump would end the code block early.
        pretty = pretty.Replace("```", "`\u200B`\u200B`", StringComparison.Ordinal);
        var shown = Truncate(pretty, MaxArgumentsChars, out var truncated);
        return truncated ? $"{shown}\n… (truncated; {pretty.Length} characters in all)" : shown;
    }

    private static string Approvers(IReadOnlyList<string> approvers, int required)
    {
        var who = approvers.Count == 0
            ? "Any member (the rule names no approvers)"
            : string.Join(", ", approvers.Take(MaxApproversShown).Select(Principal))
              + (approvers.Count > MaxApproversShown ? $" and {approvers.Count - MaxApproversShown} more" : "");
        return required > 1 ? $"{who}\n{required} approvals are needed." : who;
    }

    private static JsonObject Actions(ApprovalView approval)
    {
        var id = approval.Id.ToString();
        var tool = Plain(approval.Request.Tool, 120);
        var grants = approval.Request.Grants ?? [];
        var actions = new JsonObject
        {
            ["type"] = "actions",
            ["block_id"] = SlackActionIds.ActionsBlock,
            ["elements"] = new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "button",
                    ["action_id"] = SlackActionIds.Approve,
                    ["text"] = PlainText(grants.Count > 0 ? "Approve once" : "Approve", 75),
                    ["style"] = "primary",
                    ["value"] = id,
                    ["confirm"] = new JsonObject
                    {
                        ["title"] = PlainText("Approve this call?", 100),
                        ["text"] = PlainText($"The gateway will run {tool} with exactly the arguments shown on the card.", 300),
                        ["confirm"] = PlainText("Approve", 30),
                        ["deny"] = PlainText("Cancel", 30),
                    },
                },
                new JsonObject
                {
                    ["type"] = "button",
                    ["action_id"] = SlackActionIds.Deny,
                    ["text"] = PlainText("Deny", 75),
                    ["style"] = "danger",
                    ["value"] = id,
                },
                new JsonObject
                {
                    ["type"] = "button",
                    ["action_id"] = SlackActionIds.DenyWithReason,
                    ["text"] = PlainText("Deny with reason", 75),
                    ["value"] = id,
                },
                new JsonObject
                {
                    ["type"] = "button",
                    ["action_id"] = SlackActionIds.Withdraw,
                    ["text"] = PlainText("Withdraw", 75),
                    ["value"] = id,
                    ["confirm"] = new JsonObject
                    {
                        ["title"] = PlainText("Withdraw this request?", 100),
                        ["text"] = PlainText($"Nothing runs: the request to call {tool} ends as withdrawn, and nobody can approve it afterwards.", 300),
                        ["confirm"] = PlainText("Withdraw", 30),
                        ["deny"] = PlainText("Keep it", 30),
                    },
                },
            },
        };

        if (approval.Request.Editable)
        {
            actions["elements"]!.AsArray().Insert(1, new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = SlackActionIds.EditApprove,
                ["text"] = PlainText("Edit & approve", 75),
                ["value"] = id,
            });
        }

        // After "Approve once": one button per duration the rule offers.
        var agent = Plain(approval.Request.Agent, 60);
        var scope = ApprovalText.CoversSameArguments(approval.Request.GrantScope) ? " with these arguments" : "";
        var elements = actions["elements"]!.AsArray();
        for (var i = 0; i < grants.Count; i++)
        {
            var duration = Plain(grants[i], 20);
            elements.Insert(1 + i, new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = SlackActionIds.ApproveForPrefix + duration,
                ["text"] = PlainText($"Approve for {duration}", 75),
                ["value"] = id,
                ["confirm"] = new JsonObject
                {
                    ["title"] = PlainText($"Approve for {duration}?", 100),
                    ["text"] = PlainText($"{tool} runs now, and later calls of {agent} to it{scope} run without asking for {duration}, until revoked.", 300),
                    ["confirm"] = PlainText($"Approve for {duration}", 30),
                    ["deny"] = PlainText("Cancel", 30),
                },
            });
        }

        return actions;
    }

    private static string Waiting(ApprovalView approval) => approval.AgentWaiting
        ? $":hourglass_flowing_sand: *{ApprovalText.AgentWaiting}*: the call runs as soon as it is approved."
        : $":inbox_tray: *{ApprovalText.AgentWillCollect}*: nothing runs until it calls again.";

    private static string Outcome(ApprovalView approval, DateTimeOffset now)
    {
        var when = approval.ResolvedAt is { } at ? $" on {Date(at)}" : "";
        var by = Who(approval.DecidedBy);
        var line = approval.Status switch
        {
            // The read model keeps Approved and records the execution beside it.
            ApprovalStatus.Approved when approval.Succeeded == true => $":white_check_mark: *Approved* by {by}{when}. Executed: succeeded.",
            ApprovalStatus.Approved when approval.Succeeded == false => $":white_check_mark: *Approved* by {by}{when}. :warning: Execution failed.",
            ApprovalStatus.Approved when approval.CollectBy is { } collectBy => $":white_check_mark: *Approved* by {by} — {ApprovalText.RunsOnNextCall(collectBy, now)}.",
            ApprovalStatus.Approved => $":white_check_mark: *Approved* by {by}{when}.",
            ApprovalStatus.Lapsed => $":zzz: *Approved* by {by}; {ApprovalText.NeverCollected}",
            ApprovalStatus.Executed => $":white_check_mark: *Approved* by {by}{when}. Executed: succeeded.",
            ApprovalStatus.ExecutionFailed => $":white_check_mark: *Approved* by {by}{when}. :warning: Execution failed.",
            ApprovalStatus.Denied => $":no_entry: *Denied* by {by}{when}.",
            ApprovalStatus.Expired => $":hourglass: *Expired*{when}: nobody decided in time.",
            ApprovalStatus.Cancelled when approval.DecidedBy is not null => $":heavy_multiplication_x: *Withdrawn* by {by}{when}.",
            ApprovalStatus.Cancelled => $":heavy_multiplication_x: *Cancelled*{when}: the agent withdrew the request.",
            _ => $"*{approval.Status}*{when}.",
        };

        return string.IsNullOrWhiteSpace(approval.Comment)
            ? line
            : $"{line}\n*Comment:* {Short(approval.Comment, MaxCommentChars)}";
    }

    private static string HeaderWord(ApprovalView approval) => approval.Status switch
    {
        ApprovalStatus.Pending => "Approval needed",
        ApprovalStatus.Approved or ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed => "Approved",
        ApprovalStatus.Lapsed => "Lapsed",
        ApprovalStatus.Denied => "Denied",
        ApprovalStatus.Expired => "Expired",
        ApprovalStatus.Cancelled when approval.DecidedBy is not null => "Withdrawn",
        ApprovalStatus.Cancelled => "Cancelled",
        _ => approval.Status.ToString(),
    };
}
