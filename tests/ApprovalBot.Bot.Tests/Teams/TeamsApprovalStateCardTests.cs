using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>
/// What the Teams card says while the agent waits, after its call was handed back, once approved
/// with nobody waiting, after it lapsed and after a withdrawal (the cards also pass the
/// adaptivecards parser: see <see cref="TeamsAdaptiveCardsTests.AllCards"/>).
/// </summary>
public sealed class TeamsApprovalStateCardTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 2, 9, 30, 0, TimeSpan.Zero);
    private static readonly Approver Ada = new("teams", TeamsTestHost.ApproverAadId, "Ada Approver", TeamsTestHost.TenantId);

    private static IEnumerable<JsonObject> Objects(JsonNode? node)
    {
        if (node is JsonObject o)
        {
            yield return o;
        }

        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject obj => obj.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children)
        {
            foreach (var descendant in Objects(child))
            {
                yield return descendant;
            }
        }
    }

    internal static string AllText(JsonNode? card) => string.Join("\n", Objects(card)
        .SelectMany(o => new[] { o["text"], o["value"], o["title"] })
        .OfType<JsonValue>()
        .Select(v => v.ToString()));

    private static IReadOnlyList<string?> Verbs(JsonObject card) =>
        card["actions"] is JsonArray actions ? actions.Select(a => (string?)a!["verb"]).ToList() : [];

    [Fact]
    public void Pending_with_the_agent_waiting_says_so_and_offers_approve_deny_withdraw()
    {
        var card = TeamsCard.Approval(TeamsTestApprovals.Pending(Now), Now);

        var text = AllText(card);
        Assert.Contains("Agent waiting: the call runs as soon as it is approved.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("next call", text, StringComparison.Ordinal);
        Assert.Equal(["approve", "deny", "withdraw"], Verbs(card));
    }

    [Fact]
    public void Pending_with_the_call_handed_back_says_the_agent_collects_it_on_its_next_call()
    {
        var card = TeamsCard.Approval(TeamsTestApprovals.Pending(Now) with { AgentWaiting = false }, Now);

        var text = AllText(card);
        Assert.Contains("The agent will collect this on its next call: nothing runs until it calls again.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Agent waiting", text, StringComparison.Ordinal);
        Assert.Equal(["approve", "deny", "withdraw"], Verbs(card));
    }

    [Fact]
    public void Approved_while_nobody_waits_says_it_runs_on_the_next_call_until_the_collect_by_time()
    {
        var view = TeamsTestApprovals.Pending(Now) with
        {
            Status = ApprovalStatus.Approved,
            DecidedBy = Ada,
            ResolvedAt = Now,
            AgentWaiting = false,
            CollectBy = new DateTimeOffset(2025, 6, 2, 10, 5, 0, TimeSpan.Zero),
        };

        var card = TeamsCard.Final(view, Now);

        var text = AllText(card);
        Assert.Contains("Approved by Ada Approver — runs when the agent calls again (until 10:05 UTC).", text, StringComparison.Ordinal);
        Assert.Contains("2025-06-02 10:05:00 UTC", text, StringComparison.Ordinal); // the "Collect by" fact
        Assert.Empty(Verbs(card));

        // Past midnight UTC the date is part of it.
        var tomorrow = TeamsCard.Final(view with { CollectBy = new DateTimeOffset(2025, 6, 3, 0, 10, 0, TimeSpan.Zero) }, Now);
        Assert.Contains("(until 2025-06-03 00:10 UTC)", AllText(tomorrow), StringComparison.Ordinal);
    }

    [Fact]
    public void Once_collected_and_run_the_card_no_longer_says_it_waits_for_the_agent()
    {
        var view = TeamsTestApprovals.Pending(Now) with
        {
            Status = ApprovalStatus.Approved,
            DecidedBy = Ada,
            ResolvedAt = Now,
            CollectBy = Now.AddMinutes(30),
            Succeeded = true,
            ExecutionSummary = "Task T-1042 cancelled.",
        };

        var text = AllText(TeamsCard.Final(view, Now));

        Assert.Contains("Approved and executed", text, StringComparison.Ordinal);
        Assert.DoesNotContain("calls again", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Lapsed_says_approved_by_whom_and_that_nothing_ran()
    {
        var view = TeamsTestApprovals.Pending(Now) with { Status = ApprovalStatus.Lapsed, DecidedBy = Ada, ResolvedAt = Now, CollectBy = Now };

        var card = TeamsCard.Final(view, Now);

        var text = AllText(card);
        Assert.Contains("Lapsed", text, StringComparison.Ordinal);
        Assert.Contains("Approved by Ada Approver; the agent never came back for it — nothing ran.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("calls again", text, StringComparison.Ordinal);
        Assert.Empty(Verbs(card));
    }

    [Fact]
    public void Withdrawn_says_by_whom_and_keeps_the_name_out_of_markdown()
    {
        var mallory = new Approver("teams", TeamsTestHost.ApproverAadId, "[Ada](https://evil.example)", TeamsTestHost.TenantId);
        var view = TeamsTestApprovals.Pending(Now) with { Status = ApprovalStatus.Cancelled, DecidedBy = mallory, ResolvedAt = Now };

        var card = TeamsCard.Final(view, Now);

        Assert.Contains("Withdrawn by [Ada](https://evil.example).", AllText(card), StringComparison.Ordinal);
        Assert.DoesNotContain(Objects(card), o => (string?)o["type"] == "TextBlock" && ((string?)o["text"])!.Contains("evil.example", StringComparison.Ordinal));
        Assert.Empty(Verbs(card));

        // Without a person it was the agent (tasks/cancel).
        Assert.Contains("Cancelled by the agent", AllText(TeamsCard.Final(view with { DecidedBy = null }, Now)), StringComparison.Ordinal);
    }

    [Fact]
    public void Policy_status_shows_per_pending_approval_whether_the_agent_waits_and_the_approved_ones_awaiting_collection()
    {
        var waiting = TeamsTestApprovals.Pending(Now);
        var away = TeamsTestApprovals.Pending(Now) with { AgentWaiting = false };
        var approved = TeamsTestApprovals.Pending(Now) with
        {
            Status = ApprovalStatus.Approved,
            DecidedBy = Ada,
            ResolvedAt = Now,
            CollectBy = new DateTimeOffset(2025, 6, 2, 9, 55, 0, TimeSpan.Zero),
        };
        var snapshot = new StatusSnapshot([], [waiting, away], 2, new TodayCounts(2, 0, 0, 0, 0, 0) { Lapsed = 1 }, Now)
        {
            AwaitingCollection = [approved],
            AwaitingCollectionTotal = 1,
        };

        var text = AllText(TeamsStatusCard.Status(snapshot));

        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.Contains(waiting.Id.ToString()[..8], StringComparison.Ordinal) && l.Contains("agent waiting", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(away.Id.ToString()[..8], StringComparison.Ordinal) && l.Contains("the agent will collect it on its next call", StringComparison.Ordinal));
        Assert.Contains("Approved, waiting for the agent to call again (1)", text, StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains(approved.Id.ToString()[..8], StringComparison.Ordinal)
            && l.Contains("approved by Ada Approver, runs when the agent calls again (until 09:55 UTC)", StringComparison.Ordinal));
        Assert.Contains("Lapsed (approved, never collected)", text, StringComparison.Ordinal);

        // "policy pending" lists them too.
        Assert.Contains("until 09:55 UTC", AllText(TeamsStatusCard.Pending(snapshot)), StringComparison.Ordinal);
    }
}
