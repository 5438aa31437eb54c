using System.Globalization;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Status;
using static ApprovalBot.Bot.Teams.TeamsText;

namespace ApprovalBot.Bot.Teams;

/// <summary>The cards that answer the text commands: "policy status", "policy pending" and help.</summary>
internal static class TeamsStatusCard
{
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
            body.Add(Literal($"{(gateway.Online ? "🟢" : "🔴")} {beat.Instance} (v{beat.Version}) — {(gateway.Online ? "online" : "offline")}, last seen {ApprovalText.Ago(gateway.LastSeen, snapshot.At)}", bold: true));
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
            if (WebhookStatusText.Describe(beat) is { } webhooks)
            {
                facts.Add(("Webhooks", Truncate(webhooks["webhooks: ".Length..], 400)));
            }

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
            body.Add(Literal($"• {request.Tool} — agent {request.Agent}, asked {ApprovalText.Ago(request.RequestedAt, snapshot.At)}, expires {ApprovalText.Until(request.ExpiresAt, snapshot.At)}, {ApprovalText.WaitingInList(pending)} — {Short(request.ApprovalId.ToString(), 8)}"));
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
}
