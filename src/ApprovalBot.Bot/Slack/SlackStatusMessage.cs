using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Bot.Status;
using static ApprovalBot.Bot.Slack.SlackText;

namespace ApprovalBot.Bot.Slack;

/// <summary>Renders <see cref="StatusSnapshot"/> as the ephemeral Block Kit reply of <c>/policy status</c>.</summary>
internal static class SlackStatusMessage
{
    private const int MaxSectionChars = 2900;

    public static JsonObject Build(StatusSnapshot snapshot, bool pendingOnly)
    {
        var blocks = new JsonArray();
        var text = new StringBuilder();
        if (!pendingOnly)
        {
            blocks.Add(Header("ApprovalBot status"));
            var gateways = Gateways(snapshot);
            blocks.Add(Section(gateways));
            text.Append(gateways).Append('\n');
            if (Bots(snapshot) is { } bots)
            {
                blocks.Add(Section(bots));
                text.Append(bots).Append('\n');
            }
        }

        var pending = Pending(snapshot);
        blocks.Add(Section(pending));
        text.Append(pending).Append('\n');

        if (AwaitingCollection(snapshot) is { } awaiting)
        {
            blocks.Add(Section(awaiting));
            text.Append(awaiting).Append('\n');
        }

        if (!pendingOnly && (snapshot.ActiveGrantsTotal > 0 || snapshot.ActiveGrants.Count > 0))
        {
            var grants = Grants(snapshot.ActiveGrants, snapshot.ActiveGrantsTotal, snapshot.At);
            blocks.Add(Section(grants));
            text.Append(grants).Append('\n');
        }

        if (!pendingOnly)
        {
            var today = Today(snapshot.Today);
            blocks.Add(Section(today));
            text.Append(today);
        }

        blocks.Add(Context($"As of {Date(snapshot.At)}"));
        return new JsonObject
        {
            ["response_type"] = "ephemeral",
            ["text"] = Plain(text.ToString(), MaxSectionChars),
            ["blocks"] = blocks,
        };
    }

    /// <summary><c>/policy grants</c>: the active grants, each with its id for <c>/policy revoke ID</c>.</summary>
    public static JsonObject GrantList(IReadOnlyList<GrantView> grants, int total, DateTimeOffset now, string command)
    {
        var list = Grants(grants, total, now);
        var blocks = new JsonArray { Section(list) };
        if (grants.Count > 0)
        {
            blocks.Add(Context($"Revoke one with `{Escape(command)} revoke ID`. As of {Date(now)}"));
        }

        return new JsonObject
        {
            ["response_type"] = "ephemeral",
            ["text"] = Plain(list, MaxSectionChars),
            ["blocks"] = blocks,
        };
    }

    /// <summary>"*Active grants* — 2" and one line per grant (tool, agent, scope, until, who gave it, id).</summary>
    private static string Grants(IReadOnlyList<GrantView> grants, int total, DateTimeOffset now)
    {
        var lines = new StringBuilder($"*Active grants* — {total}\n");
        if (total == 0 && grants.Count == 0)
        {
            lines.Append(ApprovalText.NoActiveGrant);
        }

        return List(lines, grants.Select(g =>
        {
            var grant = g.Grant;
            return $"• `{Short(grant.Tool, 100)}` for {Short(grant.Agent, 80)} ({ApprovalText.GrantScopeWords(grant.Scope)}) — until {Date(grant.ExpiresAt)} ({ApprovalText.Until(grant.ExpiresAt, now)}), given by {Who(grant.GrantedBy)} · `{grant.GrantId}`\n";
        }), total - grants.Count);
    }

    public static JsonObject Usage(string command, string? problem)
    {
        var usage = new StringBuilder();
        if (problem is not null)
        {
            usage.Append(problem).Append('\n');
        }

        var c = Escape(command);
        usage.Append("*Usage*\n")
            .Append($"`{c}` or `{c} status` — gateways, upstream health, pending approvals, today's counts and the active policy\n")
            .Append($"`{c} pending` — only the pending approvals, oldest first\n")
            .Append($"`{c} grants` — the active grants (approvals given for a while)\n")
            .Append($"`{c} revoke ID` — end a grant now: the agent's next call asks for approval again\n")
            .Append($"`{c} help` — this message");
        var text = usage.ToString();
        return new JsonObject
        {
            ["response_type"] = "ephemeral",
            ["text"] = text,
            ["blocks"] = new JsonArray { Section(text) },
        };
    }

    public static JsonObject Ephemeral(string text) => new() { ["response_type"] = "ephemeral", ["text"] = text };

    /// <summary>The bot replicas sharing the store; null with SQLite (one bot: nothing to tell).</summary>
    private static string? Bots(StatusSnapshot snapshot)
    {
        if (snapshot.Bots.Count == 0)
        {
            return null;
        }

        var lines = new StringBuilder($"*Bots* — {snapshot.Bots.Count(b => b.Online)} online of {snapshot.Bots.Count}\n");
        foreach (var bot in snapshot.Bots.OrderByDescending(b => b.Online).ThenBy(b => b.Instance, StringComparer.Ordinal))
        {
            var line = $"{(bot.Online ? ":large_green_circle:" : ":red_circle: offline,")} *{Short(bot.Instance, 80)}*{(bot.Self ? " (answering)" : "")} — up since {Date(bot.StartedAt)}, last seen {Date(bot.LastSeen)}\n";
            if (lines.Length + line.Length > MaxSectionChars)
            {
                lines.Append("…");
                break;
            }

            lines.Append(line);
        }

        return lines.ToString().TrimEnd('\n');
    }

    private static string Gateways(StatusSnapshot snapshot)
    {
        var online = snapshot.Gateways.Count(g => g.Online);
        var lines = new StringBuilder($"*Gateways* — {online} online of {snapshot.Gateways.Count}\n");
        if (snapshot.Gateways.Count == 0)
        {
            lines.Append("No gateway has sent a heartbeat yet.");
        }

        foreach (var gateway in snapshot.Gateways.OrderByDescending(g => g.Online).ThenBy(g => g.Heartbeat.Instance, StringComparer.Ordinal))
        {
            var beat = gateway.Heartbeat;
            var upstreams = beat.Upstreams.Count == 0
                ? "no upstreams"
                : string.Join(", ", beat.Upstreams.Select(u => u.Connected
                    ? $"{Short(u.Name, 60)} :white_check_mark: {u.Tools} tools"
                    : $"{Short(u.Name, 60)} :x: {Short(u.Error ?? "disconnected", 120)}"));
            var policy = $"policy: default `{Short(beat.PolicyDefault, 40)}`, {beat.PolicyRules} {(beat.PolicyRules == 1 ? "rule" : "rules")}"
                + (string.IsNullOrWhiteSpace(beat.PolicySummary) ? "" : $" ({Short(beat.PolicySummary, 200)})")
                + (beat.PolicyLoadedAt is { } loaded ? $", loaded {Date(loaded)}" : "");
            var line = $"{(gateway.Online ? ":large_green_circle:" : ":red_circle: offline,")} *{Short(beat.Instance, 80)}* v{Short(beat.Version, 40)} — last seen {Date(gateway.LastSeen)}\n"
                + $"    upstreams: {upstreams}\n    {policy}; {beat.PendingCount} pending\n"
                + (WebhookStatusText.Describe(beat) is { } webhooks ? $"    {Short("webhooks: " + webhooks, 400)}\n" : "");
            if (lines.Length + line.Length > MaxSectionChars)
            {
                lines.Append("…");
                break;
            }

            lines.Append(line);
        }

        return lines.ToString().TrimEnd();
    }

    private static string Pending(StatusSnapshot snapshot)
    {
        var lines = new StringBuilder($"*Pending approvals* — {snapshot.PendingTotal}\n");
        if (snapshot.PendingTotal == 0 && snapshot.Pending.Count == 0)
        {
            lines.Append("Nothing is waiting for a decision.");
        }

        return List(lines, snapshot.Pending.OrderBy(a => a.Request.RequestedAt).Select(approval =>
        {
            var request = approval.Request;
            return $"• `{Short(request.Tool, 100)}` by {Short(request.Agent, 80)} on {Short(request.Upstream, 60)} — asked {ApprovalText.Duration(snapshot.At - request.RequestedAt)} ago, expires {Date(request.ExpiresAt)}, {ApprovalText.WaitingInList(approval)} · `{request.ApprovalId}`\n";
        }), snapshot.PendingTotal - snapshot.Pending.Count);
    }

    /// <summary>Approved while nobody waited and not collected yet; null when there are none.</summary>
    private static string? AwaitingCollection(StatusSnapshot snapshot)
    {
        if (snapshot.AwaitingCollectionTotal == 0 && snapshot.AwaitingCollection.Count == 0)
        {
            return null;
        }

        var lines = new StringBuilder($"*Approved, waiting for the agent to call again* — {snapshot.AwaitingCollectionTotal}\n");
        return List(lines, snapshot.AwaitingCollection.Select(approval =>
        {
            var request = approval.Request;
            return $"• `{Short(request.Tool, 100)}` by {Short(request.Agent, 80)} — approved by {Who(approval.DecidedBy)}, {Escape(ApprovalText.RunsOnNextCall(approval.CollectBy!.Value, snapshot.At))} · `{request.ApprovalId}`\n";
        }), snapshot.AwaitingCollectionTotal - snapshot.AwaitingCollection.Count);
    }

    /// <summary>Appends <paramref name="items"/> while the section stays within Slack's limit, then "…and N more." for the <paramref name="more"/> not fetched.</summary>
    private static string List(StringBuilder lines, IEnumerable<string> items, int more)
    {
        foreach (var line in items)
        {
            if (lines.Length + line.Length > MaxSectionChars - 40)
            {
                break;
            }

            lines.Append(line);
        }

        if (more > 0)
        {
            lines.Append(CultureInfo.InvariantCulture, $"…and {more} more.");
        }

        return lines.ToString().TrimEnd();
    }

    private static string Today(TodayCounts today) =>
        "*Today* (UTC)\n"
        + $"Approved {today.Approved}{(today.Lapsed > 0 ? $" ({today.Lapsed} never collected)" : "")} · Denied {today.Denied} · Expired {today.Expired} · Cancelled {today.Cancelled} · "
        + $"Auto-allowed {today.AutoAllowed} · Denied by policy {today.DeniedByPolicy}";
}
