using System.Globalization;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Grants;
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
                facts.Add(("Webhooks", Truncate(webhooks, 400)));
            }

            facts.Add(("Policy today", $"allowed {beat.Today.Allowed}, denied {beat.Today.DeniedByPolicy}, rate-limited {beat.Today.RateLimited}, held for approval {beat.Today.HeldForApproval}"));
            body.Add(FactSet(facts));
        }

        // Replicas sharing the store (PostgreSQL) only: with SQLite there is one bot, the one answering.
        if (snapshot.Bots.Count > 0)
        {
            body.Add(Label("Bots"));
            foreach (var bot in snapshot.Bots)
            {
                body.Add(Literal(
                    $"{(bot.Online ? "🟢" : "🔴")} {bot.Instance}{(bot.Self ? " (answering)" : "")} — {(bot.Online ? "online" : "offline")}, up since {Time(bot.StartedAt)}, last seen {ApprovalText.Ago(bot.LastSeen, snapshot.At)}"));
            }
        }

        AddPending(body, snapshot);
        if (snapshot.ActiveGrantsTotal > 0 || snapshot.ActiveGrants.Count > 0)
        {
            AddGrants(body, snapshot.ActiveGrants, snapshot.ActiveGrantsTotal, snapshot.At, withRevoke: false);
        }

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
        return Card(body, $"ApprovalBot status: {snapshot.Gateways.Count(g => g.Online)} gateway(s) online, "
            + (snapshot.Bots.Count > 0 ? $"{snapshot.Bots.Count(b => b.Online)} bot(s) online, " : "") + $"{snapshot.PendingTotal} pending");
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
                ("policy grants", "the active grants (approvals given for a while), each with a Revoke button"),
                ("policy revoke ID", "end a grant now: the agent's next call asks for approval again"),
                ("help", "this message"),
            ]),
            Note("In a channel, @mention me first: @ApprovalBot policy status"),
        };
        return Card(body, "ApprovalBot: policy status, policy pending, policy grants, help");
    }

    /// <summary>What "policy grants" answers: the active grants, each with a Revoke button.</summary>
    /// <param name="notice">The outcome of a revocation just asked for, shown on top.</param>
    public static JsonObject Grants(IReadOnlyList<GrantView> grants, int total, DateTimeOffset now, string? notice = null)
    {
        var body = new JsonArray
        {
            Heading("⏱ Active grants", size: "Large"),
            Note($"As of {Time(now)}"),
        };
        if (notice is not null)
        {
            body.Add(Literal(notice, bold: true, color: "Accent"));
        }

        AddGrants(body, grants, total, now, withRevoke: true);
        return Card(body, $"{total} active grant(s)");
    }

    /// <param name="withRevoke">A Revoke button under each grant (Action.Execute, verb revokeGrant).</param>
    private static void AddGrants(JsonArray body, IReadOnlyList<GrantView> grants, int total, DateTimeOffset now, bool withRevoke)
    {
        body.Add(Label($"Active grants ({total})"));
        if (grants.Count == 0)
        {
            body.Add(Note(ApprovalText.NoActiveGrant));
            return;
        }

        foreach (var view in grants)
        {
            var grant = view.Grant;
            var items = new JsonArray
            {
                Literal($"• {grant.Tool} — agent {grant.Agent} ({ApprovalText.GrantScopeWords(grant.Scope)}), until {Time(grant.ExpiresAt)} ({ApprovalText.Until(grant.ExpiresAt, now)}), given by {grant.GrantedBy.DisplayName} — {grant.GrantId}"),
            };
            if (withRevoke)
            {
                var data = new JsonObject { ["grantId"] = grant.GrantId.ToString() };
                items.Add(new JsonObject
                {
                    ["type"] = "ActionSet",
                    ["actions"] = new JsonArray
                    {
                        new JsonObject
                        {
                            ["type"] = "Action.Execute",
                            ["title"] = "Revoke",
                            ["verb"] = TeamsCard.RevokeGrantVerb,
                            ["style"] = "destructive",
                            ["data"] = data,
                            ["fallback"] = new JsonObject
                            {
                                ["type"] = "Action.Submit",
                                ["title"] = "Revoke",
                                ["style"] = "destructive",
                                ["data"] = new JsonObject { ["action"] = TeamsCard.RevokeGrantVerb, ["grantId"] = grant.GrantId.ToString() },
                            },
                        },
                    },
                });
            }

            body.Add(new JsonObject { ["type"] = "Container", ["items"] = items });
        }

        if (total > grants.Count)
        {
            body.Add(Note($"… and {total - grants.Count} more."));
        }
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
