using System.Globalization;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Core.Approvals;
using static ApprovalBot.Bot.Teams.TeamsText;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// The Adaptive Card of one approval: interactive while pending (facts, whether the agent waits,
/// redacted arguments, a reason input, Approve / Deny / Withdraw), without buttons once it left
/// Pending, and the refusal shown in its place to someone who may not click it.
/// </summary>
internal static class TeamsCard
{
    public const string ApproveVerb = "approve";
    public const string DenyVerb = "deny";
    public const string WithdrawVerb = "withdraw";

    /// <summary>On the grants list: end a grant now (data <c>{grantId}</c>).</summary>
    public const string RevokeGrantVerb = "revokeGrant";

    /// <summary>The data key of "Approve for 1h": the duration as the policy spells it.</summary>
    public const string GrantDataKey = "grant";

    /// <summary>"Edit, then approve": the input holding the arguments, and the data flag of its approve action.</summary>
    public const string ArgumentsInputId = "arguments";
    public const string EditDataKey = "edit";
    public const int MaxEditLength = 4000;
    public const string CommentInputId = "comment";
    public const int MaxCommentLength = 500;
    internal const int MaxArgumentChars = 4000;
    internal const int MaxArgumentLines = 40;
    private const int MaxArgumentLineChars = 400;

    /// <summary>The interactive card of a pending approval: facts, whether the agent waits, redacted arguments, a reason input, Approve / Deny / Withdraw.</summary>
    public static JsonObject Approval(ApprovalView view, DateTimeOffset now, string? notice = null)
    {
        var request = view.Request;
        var body = new JsonArray
        {
            Heading("🔐 Approval needed"),
            Literal(request.Tool, bold: true, size: "Medium", monospace: true),
        };
        if (!string.IsNullOrWhiteSpace(request.Reason))
        {
            body.Add(Literal(request.Reason, italic: true));
        }

        var facts = new List<(string, string)>
        {
            ("Upstream", request.Upstream),
            ("Agent", request.Agent),
            ("Approvers", request.Approvers.Count == 0 ? "any user of this tenant" : string.Join(", ", request.Approvers)),
        };
        if (request.ApprovalsRequired > 1)
        {
            facts.Add(("Approvals needed", request.ApprovalsRequired.ToString(CultureInfo.InvariantCulture)));
        }

        facts.Add(("Requested", Time(request.RequestedAt)));
        facts.Add(("Expires", $"{Time(request.ExpiresAt)} ({ApprovalText.Until(request.ExpiresAt, now)})"));
        facts.Add(("Approval id", request.ApprovalId.ToString()));
        facts.Add(("Argument digest", Short(request.ArgumentDigest, 16)));
        body.Add(FactSet(facts));
        body.Add(WaitingLine(view));
        if (view.EscalatedAt is not null)
        {
            body.Add(Literal($"🚨 Escalated to {string.Join(", ", view.EscalatedTo ?? [])}: nobody decided in time.", bold: true, color: "Attention"));
        }

        body.Add(Arguments(request.RedactedArguments));
        if (!string.IsNullOrWhiteSpace(notice))
        {
            body.Add(Literal(notice, color: "Accent", bold: true));
        }

        var grants = request.Grants ?? [];
        if (grants.Count > 0)
        {
            // "Approve for …" in their own action set: a card (and an action set) shows at most five actions.
            var scope = ApprovalText.CoversSameArguments(request.GrantScope) ? " with the same arguments" : "";
            body.Add(Literal($"\"Approve for …\" also lets later calls of {request.Agent} to {request.Tool}{scope} run without asking until then (revocable: \"policy grants\").", italic: true, size: "Small"));
            var approveFor = new JsonArray();
            foreach (var duration in grants)
            {
                approveFor.Add(Execute($"⏱ Approve for {duration}", ApproveVerb, "positive", request.ApprovalId, duration));
            }

            body.Add(new JsonObject { ["type"] = "ActionSet", ["actions"] = approveFor });
        }

        body.Add(new JsonObject
        {
            ["type"] = "Input.Text",
            ["id"] = CommentInputId,
            ["label"] = "Reason (optional, shown to the agent)",
            ["placeholder"] = "Why approve or deny?",
            ["isMultiline"] = true,
            ["maxLength"] = MaxCommentLength,
        });

        var card = Card(body, $"Approval needed: {request.Tool} ({request.ApprovalId})");
        card["actions"] = new JsonArray
        {
            Execute(grants.Count > 0 ? "✅ Approve once" : "✅ Approve", ApproveVerb, "positive", request.ApprovalId),
            Execute("⛔ Deny", DenyVerb, "destructive", request.ApprovalId),
            Execute("↩️ Withdraw", WithdrawVerb, null, request.ApprovalId),
        };
        if (request.Editable && EditableText(request.RedactedArguments) is { } editable)
        {
            card["actions"]!.AsArray().Add(EditAction(request.ApprovalId, editable));
        }
        return card;
    }

    /// <summary>The card of an approval that left Pending: outcome, who, when, comment; no buttons.</summary>
    /// <param name="now">The channel's clock: decides whether a collect-by time needs its date.</param>
    public static JsonObject Final(ApprovalView view, DateTimeOffset now, string? notice = null)
    {
        var request = view.Request;
        var (title, color) = view.Status switch
        {
            // The read model keeps Approved and records the execution beside it.
            ApprovalStatus.Approved when view.Succeeded == true => ("✅ Approved and executed", "Good"),
            ApprovalStatus.Approved when view.Succeeded == false => ("⚠️ Approved, but the call failed", "Warning"),
            ApprovalStatus.Approved when view.CollectBy is not null => ("✅ Approved: runs when the agent calls again", "Good"),
            ApprovalStatus.Approved => ("✅ Approved", "Good"),
            ApprovalStatus.Executed => ("✅ Approved and executed", "Good"),
            ApprovalStatus.ExecutionFailed => ("⚠️ Approved, but the call failed", "Warning"),
            ApprovalStatus.Lapsed => ("💤 Lapsed: approved, but the agent never came back for it", "Warning"),
            ApprovalStatus.Denied => ("⛔ Denied", "Attention"),
            ApprovalStatus.Expired => ("⌛ Expired: nobody decided in time", "Warning"),
            ApprovalStatus.Cancelled when view.DecidedBy is not null => ("🚫 Withdrawn", "Default"),
            ApprovalStatus.Cancelled => ("🚫 Cancelled by the agent", "Default"),
            _ => ("⏳ Pending", "Default"),
        };

        var body = new JsonArray
        {
            Heading(title, color),
            Literal(request.Tool, bold: true, size: "Medium", monospace: true),
        };

        // Where it stands in one sentence, when the title alone does not say it. A TextRun: the name is a person's.
        if (view.AwaitsCollection || view.Status == ApprovalStatus.Lapsed || (view.Status == ApprovalStatus.Cancelled && view.DecidedBy is not null))
        {
            body.Add(Literal(ApprovalText.Describe(view, now), bold: true));
        }

        if (!string.IsNullOrWhiteSpace(notice))
        {
            body.Add(Literal(notice, color: "Accent", bold: true));
        }

        if (view.GrantUntil is { } until)
        {
            body.Add(Literal($"⏱ {ApprovalText.ApprovedForAWhile}: {ApprovalText.GrantLetsThrough(request.Agent, request.Tool, request.GrantScope, Time(until))}", bold: true));
        }

        var facts = new List<(string, string)>
        {
            ("Upstream", request.Upstream),
            ("Agent", request.Agent),
        };
        if (view.GrantId is { } grantId)
        {
            facts.Add(("Grant id", grantId.ToString()));
        }
        if (view.DecidedBy is { } by)
        {
            facts.Add(("Decided by", $"{by.DisplayName} ({by.Platform})"));
        }

        if (view.ResolvedAt is { } at)
        {
            facts.Add(("When", Time(at)));
        }

        if (view.AwaitsCollection)
        {
            facts.Add(("Collect by", Time(view.CollectBy!.Value)));
        }

        facts.Add(("Approval id", request.ApprovalId.ToString()));
        body.Add(FactSet(facts));
        if (!string.IsNullOrWhiteSpace(view.Comment))
        {
            body.Add(Label("Comment"));
            body.Add(Literal(view.Comment, italic: true));
        }

        if (view.EditedArguments is { } edited)
        {
            body.Add(Literal($"✏️ {ApprovalText.ApprovedWithChangedArguments} {ApprovalText.HiddenValuesUnchanged}: {edited}", bold: true));
        }

        if (!string.IsNullOrWhiteSpace(view.ExecutionSummary))
        {
            body.Add(Label(view.Succeeded == false ? "Upstream error" : "Upstream result"));
            body.Add(Literal(Truncate(view.ExecutionSummary, 1500), monospace: true));
        }

        body.Add(Arguments(request.RedactedArguments));
        return Card(body, $"{title}: {request.Tool} ({request.ApprovalId})");
    }

    /// <summary>The card posted in an approval's thread when nobody decided in time and it was escalated.</summary>
    public static JsonObject Escalated(ApprovalView view, IReadOnlyList<string> added, DateTimeOffset now)
    {
        var request = view.Request;
        var body = new JsonArray
        {
            Heading("🚨 Escalated: nobody has decided yet", "Attention"),
            Literal(request.Tool, bold: true, size: "Medium", monospace: true),
            Literal($"Requested by {request.Agent} {ApprovalText.Ago(request.RequestedAt, now)}; expires {Time(request.ExpiresAt)} ({ApprovalText.Until(request.ExpiresAt, now)})."),
            FactSet([("Escalated to", added.Count == 0 ? "nobody new" : string.Join(", ", added)), ("Approval id", request.ApprovalId.ToString())]),
            Note("Those named may decide it now, on the card above."),
        };
        return Card(body, $"Escalated: {request.Tool} ({request.ApprovalId})");
    }

    /// <summary>A refusal or failure, shown to the person who clicked in place of the card.</summary>
    public static JsonObject Error(string title, string message, ApprovalView? view = null)
    {
        var body = new JsonArray
        {
            Heading("⚠️ " + title, "Attention"),
            Literal(message),
        };
        if (view is not null)
        {
            body.Add(FactSet([("Tool", view.Request.Tool), ("Approval id", view.Id.ToString())]));
            body.Add(Note("Nothing was changed. Reload the conversation to see the approval card again."));
        }

        return Card(body, $"{title}: {message}");
    }

    /// <summary>The arguments to edit, pretty-printed; null when they are too long for the input.</summary>
    private static string? EditableText(string redactedArguments) =>
        // JSON null: the edit starts from an empty object.
        ApprovalText.Pretty(redactedArguments, whenNull: "{}") is { Length: <= MaxEditLength } pretty ? pretty : null;

    /// <summary>"Edit, then approve": a card that opens with the arguments in an input and its own approve button.</summary>
    private static JsonObject EditAction(Guid approvalId, string arguments)
    {
        var approve = Execute("✅ Approve with these arguments", ApproveVerb, "positive", approvalId);
        approve["data"]![EditDataKey] = true;
        approve["fallback"]!["data"]![EditDataKey] = true;
        return new JsonObject
        {
            ["type"] = "Action.ShowCard",
            ["title"] = "✏️ Edit, then approve",
            ["card"] = new JsonObject
            {
                ["type"] = "AdaptiveCard",
                ["body"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["type"] = "TextBlock",
                        ["text"] = "Change the arguments, then approve. " + ApprovalText.KeepHiddenValues($"\"{Core.Redaction.SecretRedactor.Mask}\""),
                        ["wrap"] = true,
                        ["isSubtle"] = true,
                        ["size"] = "Small",
                    },
                    new JsonObject
                    {
                        ["type"] = "Input.Text",
                        ["id"] = ArgumentsInputId,
                        ["label"] = "Arguments (JSON)",
                        ["isMultiline"] = true,
                        ["maxLength"] = MaxEditLength,
                        ["value"] = arguments,
                    },
                },
                ["actions"] = new JsonArray { approve },
            },
        };
    }

    /// <summary>Pretty-printed redacted arguments, cut to keep the activity far below the Connector's ~40 KB limit.</summary>
    internal static IReadOnlyList<string> ArgumentLines(string redactedArguments, out bool truncated)
    {
        var pretty = ApprovalText.Pretty(redactedArguments) ?? redactedArguments;
        truncated = false;
        var lines = new List<string>();
        var total = 0;
        foreach (var raw in pretty.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var line = raw;
            if (line.Length > MaxArgumentLineChars)
            {
                line = line[..MaxArgumentLineChars] + " …";
                truncated = true;
            }

            if (lines.Count >= MaxArgumentLines || total + line.Length > MaxArgumentChars)
            {
                truncated = true;
                break;
            }

            total += line.Length;
            lines.Add(line);
        }

        return lines;
    }

    private static JsonObject Arguments(string redactedArguments)
    {
        var lines = ArgumentLines(redactedArguments, out var truncated);
        var items = new JsonArray();
        foreach (var line in lines)
        {
            // Leading spaces would collapse in HTML; non-breaking ones keep the indentation.
            var indent = line.Length - line.TrimStart(' ').Length;
            var text = new string('\u00A0', indent) + line[indent..];
            items.Add(new JsonObject
            {
                ["type"] = "RichTextBlock",
                ["spacing"] = "None",
                ["inlines"] = new JsonArray
                {
                    new JsonObject { ["type"] = "TextRun", ["text"] = text.Length == 0 ? "\u00A0" : text, ["fontType"] = "Monospace", ["size"] = "Small" },
                },
            });
        }

        if (truncated)
        {
            items.Add(Note("… arguments shortened for display; the approval binds the full arguments (see the digest)."));
        }

        return new JsonObject
        {
            ["type"] = "Container",
            ["style"] = "emphasis",
            ["items"] = new JsonArray(Label("Arguments (secrets redacted)"), new JsonObject { ["type"] = "Container", ["items"] = items }),
        };
    }

    /// <summary>The bot's own words (a TextBlock is safe): whether a call of the agent is held open.</summary>
    private static JsonObject WaitingLine(ApprovalView view) => new()
    {
        ["type"] = "TextBlock",
        ["text"] = (view.AgentWaiting ? "⏳ " : "📥 ") + ApprovalText.Waiting(view, detail: true),
        ["weight"] = "Bolder",
        ["color"] = view.AgentWaiting ? "Good" : "Warning",
        ["wrap"] = true,
    };

    /// <param name="style">positive, destructive, or null for the default look.</param>
    /// <param name="grant">"Approve for …": the duration, carried in the data.</param>
    private static JsonObject Execute(string title, string verb, string? style, Guid approvalId, string? grant = null)
    {
        var data = new JsonObject { ["approvalId"] = approvalId.ToString() };
        var fallbackData = new JsonObject { ["action"] = verb, ["approvalId"] = approvalId.ToString() };
        if (grant is not null)
        {
            data[GrantDataKey] = grant;
            fallbackData[GrantDataKey] = grant;
        }

        var action = new JsonObject
        {
            ["type"] = "Action.Execute",
            ["title"] = title,
            ["verb"] = verb,
            ["data"] = data,
            // Clients without Universal Actions send a message activity whose value is this data plus the inputs.
            ["fallback"] = new JsonObject
            {
                ["type"] = "Action.Submit",
                ["title"] = title,
                ["data"] = fallbackData,
            },
        };
        if (style is not null)
        {
            action["style"] = style;
            action["fallback"]!["style"] = style;
        }

        return action;
    }
}
