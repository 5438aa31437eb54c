using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// The Adaptive Cards (version 1.5, the highest Teams renders) that the bot posts. Text that comes
/// from agents, upstream servers or people is written as <c>TextRun</c>s, which Teams shows
/// literally; markdown-rendering <c>TextBlock</c>s carry only the bot's own words and facts with
/// link syntax broken, so an argument cannot dress itself up as a link.
/// </summary>
internal static class TeamsCards
{
    public const string ContentType = "application/vnd.microsoft.card.adaptive";
    public const string Schema = "http://adaptivecards.io/schemas/adaptive-card.json";
    public const string Version = "1.5";
    public const string ApproveVerb = "approve";
    public const string DenyVerb = "deny";
    public const string WithdrawVerb = "withdraw";
    public const string CommentInputId = "comment";
    public const int MaxCommentLength = 500;
    internal const int MaxArgumentChars = 4000;
    internal const int MaxArgumentLines = 40;
    private const int MaxArgumentLineChars = 400;

    private static readonly JsonSerializerOptions PrettyJson = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

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
        facts.Add(("Expires", $"{Time(request.ExpiresAt)} ({Until(request.ExpiresAt, now)})"));
        facts.Add(("Approval id", request.ApprovalId.ToString()));
        facts.Add(("Argument digest", Short(request.ArgumentDigest, 16)));
        body.Add(FactSet(facts));
        body.Add(WaitingLine(view));
        body.Add(Arguments(request.RedactedArguments));
        if (!string.IsNullOrWhiteSpace(notice))
        {
            body.Add(Literal(notice, color: "Accent", bold: true));
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
            Execute("✅ Approve", ApproveVerb, "positive", request.ApprovalId),
            Execute("⛔ Deny", DenyVerb, "destructive", request.ApprovalId),
            Execute("↩️ Withdraw", WithdrawVerb, null, request.ApprovalId),
        };
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

        var facts = new List<(string, string)>
        {
            ("Upstream", request.Upstream),
            ("Agent", request.Agent),
        };
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

        if (!string.IsNullOrWhiteSpace(view.ExecutionSummary))
        {
            body.Add(Label(view.Succeeded == false ? "Upstream error" : "Upstream result"));
            body.Add(Literal(Truncate(view.ExecutionSummary, 1500), monospace: true));
        }

        body.Add(Arguments(request.RedactedArguments));
        return Card(body, $"{title}: {request.Tool} ({request.ApprovalId})");
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

    /// <summary>What "policy status" answers: gateways, pending approvals, today's counts.</summary>
    public static JsonObject Status(StatusSnapshot snapshot)
    {
        var body = new JsonArray
        {
            Heading("📋 ApprovalBot status", size: "Large"),
            Note($"As of {Time(snapshot.At)}"),
            Label("Gateways"),
        };
        if (snapshot.Gateways.Count == 0)
        {
            body.Add(Note("No gateway has sent a heartbeat yet."));
        }

        foreach (var gateway in snapshot.Gateways)
        {
            var beat = gateway.Heartbeat;
            body.Add(Literal($"{(gateway.Online ? "🟢" : "🔴")} {beat.Instance} (v{beat.Version}) — {(gateway.Online ? "online" : "offline")}, last seen {Ago(gateway.LastSeen, snapshot.At)}", bold: true));
            var policy = $"default {beat.PolicyDefault}, {beat.PolicyRules} rule{(beat.PolicyRules == 1 ? "" : "s")}";
            if (beat.PolicyLoadedAt is { } loaded)
            {
                policy += $", loaded {Time(loaded)}";
            }

            var facts = new List<(string, string)> { ("Policy", policy) };
            if (!string.IsNullOrWhiteSpace(beat.PolicySummary))
            {
                facts.Add(("Summary", beat.PolicySummary));
            }

            facts.Add(("Upstreams", beat.Upstreams.Count == 0
                ? "none"
                : string.Join("; ", beat.Upstreams.Select(u => u.Connected
                    ? $"✅ {u.Name} ({u.Tools} tool{(u.Tools == 1 ? "" : "s")})"
                    : $"❌ {u.Name} ({Truncate(u.Error ?? "disconnected", 120)})"))));
            facts.Add(("Pending here", beat.PendingCount.ToString(CultureInfo.InvariantCulture)));
            facts.Add(("Policy today", $"allowed {beat.Today.Allowed}, denied {beat.Today.DeniedByPolicy}, rate-limited {beat.Today.RateLimited}, held for approval {beat.Today.HeldForApproval}"));
            body.Add(FactSet(facts));
        }

        AddPending(body, snapshot);
        body.Add(Label("Today (UTC)"));
        var today = snapshot.Today;
        body.Add(FactSet(
        [
            ("Approved", today.Approved.ToString(CultureInfo.InvariantCulture)),
            ("Denied", today.Denied.ToString(CultureInfo.InvariantCulture)),
            ("Expired", today.Expired.ToString(CultureInfo.InvariantCulture)),
            ("Cancelled", today.Cancelled.ToString(CultureInfo.InvariantCulture)),
            ("Lapsed (approved, never collected)", today.Lapsed.ToString(CultureInfo.InvariantCulture)),
            ("Allowed by policy", today.AutoAllowed.ToString(CultureInfo.InvariantCulture)),
            ("Denied by policy", today.DeniedByPolicy.ToString(CultureInfo.InvariantCulture)),
        ]));
        return Card(body, $"ApprovalBot status: {snapshot.Gateways.Count(g => g.Online)} gateway(s) online, {snapshot.PendingTotal} pending");
    }

    /// <summary>What "policy pending" answers: the pending approvals only.</summary>
    public static JsonObject Pending(StatusSnapshot snapshot)
    {
        var body = new JsonArray
        {
            Heading("⏳ Pending approvals", size: "Large"),
            Note($"As of {Time(snapshot.At)}"),
        };
        AddPending(body, snapshot);
        return Card(body, $"{snapshot.PendingTotal} pending approval(s)");
    }

    /// <summary>What the bot understands.</summary>
    public static JsonObject Help()
    {
        var body = new JsonArray
        {
            Heading("🤖 ApprovalBot"),
            new JsonObject
            {
                ["type"] = "TextBlock",
                ["wrap"] = true,
                ["text"] = "I post approval requests from AI agents into this team. Approvers decide with the buttons on each card.",
            },
            FactSet(
            [
                ("policy status", "gateways, upstream health, pending approvals, today's counts"),
                ("policy pending", "the approvals waiting for a decision"),
                ("help", "this message"),
            ]),
            Note("In a channel, @mention me first: @ApprovalBot policy status"),
        };
        return Card(body, "ApprovalBot: policy status, policy pending, help");
    }

    /// <summary>A message activity carrying one Adaptive Card.</summary>
    public static JsonObject Activity(JsonObject card, string? summary = null)
    {
        var activity = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["contentType"] = ContentType, ["content"] = card },
            },
        };
        if (summary is not null)
        {
            activity["summary"] = Truncate(summary, 250);
        }

        return activity;
    }

    /// <summary>The answer to an <c>adaptiveCard/action</c> invoke that replaces the clicker's card.</summary>
    public static JsonObject InvokeCardResponse(JsonObject card) => new()
    {
        ["statusCode"] = 200,
        ["type"] = ContentType,
        ["value"] = card,
    };

    /// <summary>The answer to an <c>adaptiveCard/action</c> invoke that could not be processed.</summary>
    public static JsonObject InvokeErrorResponse(int statusCode, string code, string message) => new()
    {
        ["statusCode"] = statusCode,
        ["type"] = "application/vnd.microsoft.error",
        ["value"] = new JsonObject { ["code"] = code, ["message"] = message },
    };

    /// <summary>Pretty-printed redacted arguments, cut to keep the activity far below the Connector's ~40 KB limit.</summary>
    internal static IReadOnlyList<string> ArgumentLines(string redactedArguments, out bool truncated)
    {
        string pretty;
        try
        {
            pretty = JsonNode.Parse(redactedArguments) is { } node ? node.ToJsonString(PrettyJson) : "null";
        }
        catch (JsonException)
        {
            pretty = redactedArguments;
        }

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

    private static void AddPending(JsonArray body, StatusSnapshot snapshot)
    {
        body.Add(Label($"Pending approvals ({snapshot.PendingTotal})"));
        if (snapshot.Pending.Count == 0)
        {
            body.Add(Note("Nothing is waiting for a decision."));
            return;
        }

        foreach (var pending in snapshot.Pending)
        {
            var request = pending.Request;
            var waiting = pending.AgentWaiting ? "agent waiting" : "the agent will collect it on its next call";
            body.Add(Literal($"• {request.Tool} — agent {request.Agent}, asked {Ago(request.RequestedAt, snapshot.At)}, expires {Until(request.ExpiresAt, snapshot.At)}, {waiting} — {Short(request.ApprovalId.ToString(), 8)}"));
        }

        if (snapshot.PendingTotal > snapshot.Pending.Count)
        {
            body.Add(Note($"… and {snapshot.PendingTotal - snapshot.Pending.Count} more."));
        }

        if (snapshot.AwaitingCollectionTotal == 0 && snapshot.AwaitingCollection.Count == 0)
        {
            return;
        }

        body.Add(Label($"Approved, waiting for the agent to call again ({snapshot.AwaitingCollectionTotal})"));
        foreach (var approved in snapshot.AwaitingCollection)
        {
            var request = approved.Request;
            var by = approved.DecidedBy?.DisplayName ?? "nobody";
            body.Add(Literal($"• {request.Tool} — agent {request.Agent}, approved by {by}, {ApprovalText.RunsOnNextCall(approved.CollectBy!.Value, snapshot.At)} — {Short(request.ApprovalId.ToString(), 8)}"));
        }

        if (snapshot.AwaitingCollectionTotal > snapshot.AwaitingCollection.Count)
        {
            body.Add(Note($"… and {snapshot.AwaitingCollectionTotal - snapshot.AwaitingCollection.Count} more."));
        }
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

    private static JsonObject Card(JsonArray body, string fallbackText) => new()
    {
        ["$schema"] = Schema,
        ["type"] = "AdaptiveCard",
        ["version"] = Version,
        ["fallbackText"] = NoLinks(Truncate(fallbackText, 300)),
        ["body"] = body,
    };

    /// <param name="style">positive, destructive, or null for the default look.</param>
    private static JsonObject Execute(string title, string verb, string? style, Guid approvalId)
    {
        var action = new JsonObject
        {
            ["type"] = "Action.Execute",
            ["title"] = title,
            ["verb"] = verb,
            ["data"] = new JsonObject { ["approvalId"] = approvalId.ToString() },
            // Clients without Universal Actions send a message activity whose value is this data plus the inputs.
            ["fallback"] = new JsonObject
            {
                ["type"] = "Action.Submit",
                ["title"] = title,
                ["data"] = new JsonObject { ["action"] = verb, ["approvalId"] = approvalId.ToString() },
            },
        };
        if (style is not null)
        {
            action["style"] = style;
            action["fallback"]!["style"] = style;
        }

        return action;
    }

    private static JsonObject Heading(string text, string? color = null, string size = "Medium")
    {
        var block = new JsonObject { ["type"] = "TextBlock", ["text"] = text, ["weight"] = "Bolder", ["size"] = size, ["wrap"] = true };
        if (color is not null and not "Default")
        {
            block["color"] = color;
        }

        return block;
    }

    private static JsonObject Label(string text) =>
        new() { ["type"] = "TextBlock", ["text"] = text, ["weight"] = "Bolder", ["wrap"] = true, ["spacing"] = "Medium" };

    private static JsonObject Note(string text) =>
        new() { ["type"] = "TextBlock", ["text"] = NoLinks(text), ["isSubtle"] = true, ["size"] = "Small", ["wrap"] = true };

    /// <summary>Text shown exactly as given (a TextRun is never read as markdown).</summary>
    private static JsonObject Literal(string text, bool bold = false, bool italic = false, string? size = null, string? color = null, bool monospace = false)
    {
        var run = new JsonObject { ["type"] = "TextRun", ["text"] = text };
        if (bold)
        {
            run["weight"] = "Bolder";
        }

        if (italic)
        {
            run["italic"] = true;
        }

        if (size is not null)
        {
            run["size"] = size;
        }

        if (color is not null)
        {
            run["color"] = color;
        }

        if (monospace)
        {
            run["fontType"] = "Monospace";
        }

        return new JsonObject { ["type"] = "RichTextBlock", ["inlines"] = new JsonArray(run) };
    }

    private static JsonObject FactSet(IEnumerable<(string Title, string Value)> facts)
    {
        var array = new JsonArray();
        foreach (var (title, value) in facts)
        {
            array.Add(new JsonObject { ["title"] = title, ["value"] = NoLinks(Truncate(value, 500)) });
        }

        return new JsonObject { ["type"] = "FactSet", ["facts"] = array };
    }

    /// <summary>Breaks markdown link syntax (<c>[text](url)</c>) so a value cannot hide a link behind other words.</summary>
    internal static string NoLinks(string text) => text.Replace("](", "]\u200B(", StringComparison.Ordinal);

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    private static string Short(string text, int length) => text.Length <= length ? text : text[..length];

    internal static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string Ago(DateTimeOffset then, DateTimeOffset now) => then > now ? "just now" : Duration(now - then) + " ago";

    private static string Until(DateTimeOffset then, DateTimeOffset now) => then <= now ? "overdue" : "in " + Duration(then - now);

    internal static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1))
        {
            return $"{Math.Max(0, (int)span.TotalSeconds)}s";
        }

        if (span < TimeSpan.FromHours(1))
        {
            return $"{(int)span.TotalMinutes}m";
        }

        return span < TimeSpan.FromDays(1)
            ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : $"{(int)span.TotalDays}d {span.Hours}h";
    }
}
