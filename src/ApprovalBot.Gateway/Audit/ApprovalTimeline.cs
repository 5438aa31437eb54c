using System.Globalization;
using System.Text.Json;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Audit;

/// <summary>One approval from request to execution: the approval as stored, and every audit row of it, oldest first.</summary>
public sealed record ApprovalTimeline(ApprovalSummary Approval, IReadOnlyList<TimelineEvent> Events)
{
    public static ApprovalTimeline From(ApprovalRecord approval, IReadOnlyList<AuditRecord> rows) =>
        new(ApprovalSummary.From(approval), rows.Select(TimelineEvent.From).ToList());

    /// <summary>The timeline of approval <paramref name="id"/> from the store, or null when there is no such approval.</summary>
    public static async Task<ApprovalTimeline?> ReadAsync(GatewayStore store, Guid id, CancellationToken cancellationToken) =>
        await store.GetApprovalAsync(id, cancellationToken) is { } approval
            ? From(approval, await store.ReadApprovalAuditAsync(id, cancellationToken))
            : null;
}

/// <summary>The approval as the gateway stores it (arguments redacted).</summary>
public sealed record ApprovalSummary(
    Guid Id,
    string Status,
    string Tool,
    string Upstream,
    string Agent,
    string Rule,
    string? Reason,
    string Digest,
    JsonElement? Arguments,
    IReadOnlyList<string> Approvers,
    int ApprovalsRequired,
    IReadOnlyList<string> ApprovedBy,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    string? DecidedBy,
    string? DecidedByName,
    string? DecidedChannel,
    string? Comment,
    DateTimeOffset? ResolvedAt,
    DateTimeOffset? ClaimedAt,
    string Gateway)
{
    public static ApprovalSummary From(ApprovalRecord r) => new(
        r.Id, r.Status.ToString(), r.Tool, r.Upstream, r.Agent, r.Rule, r.Reason, r.Digest, r.ArgumentsRedactedJson(), r.Approvers,
        r.ApprovalsRequired, r.ApprovedBy, r.RequestedAt, r.ExpiresAt, r.DecidedBy, r.DecidedByName, r.DecidedChannel, r.Comment,
        r.ResolvedAt, r.ClaimedAt, r.Instance);
}

/// <summary>
/// One step of an approval. <paramref name="Kind"/> groups the audit decisions: requested, card_posted,
/// vote, decision, refused, handed_back, joined, redeemed, claimed, outcome_repeated, lapsed, execution.
/// </summary>
/// <param name="Summary">One sentence for people ("Approved by slack:U1 in slack").</param>
public sealed record TimelineEvent(
    long AuditId,
    DateTimeOffset At,
    string Kind,
    string Decision,
    string Summary,
    string? Agent,
    string? Actor,
    string? Channel,
    string? Reference,
    string? Reason,
    string? Rule,
    string? Digest,
    double? DurationMs)
{
    public static TimelineEvent From(AuditRecord r)
    {
        var by = r.Actor is null ? "" : $" by {r.Actor}";
        var where = r.Channel is null ? "" : $" in {r.Channel}";
        var why = string.IsNullOrWhiteSpace(r.Reason) ? "" : $": {r.Reason}";
        var (kind, summary) = r.Decision switch
        {
            "held" => ("requested", $"Requested by agent {r.Agent} (rule {r.Rule}, argument digest {Short(r.Digest)})"),
            AuditDecisions.CardPosted => ("card_posted", $"Card posted{where} ({r.Reference})"),
            "approval_counted" => ("vote", $"Approval counted{by}{where}{why}"),
            "decision_refused" => ("refused", $"Decision refused{by}{where}{why}"),
            "approved" => ("decision", $"Approved{by}{where}{why}"),
            AuditDecisions.DeniedByHuman => ("decision", $"Denied{by}{where}{why}"),
            "cancelled" => ("decision", $"Withdrawn{by}{where}{why}"),
            "expired" => ("decision", "Expired: nobody decided in time"),
            "handed_back" => ("handed_back", "Handed back to the agent as pending; its identical call collects the outcome"),
            "held_duplicate" => ("joined", "The agent's identical call joined the pending approval"),
            "redeemed" => ("redeemed", "The agent's identical call came back for the approved call"),
            "claimed" => ("claimed", "Claimed for execution (single use)"),
            "outcome_repeated" => ("outcome_repeated", "The agent's identical call was told the outcome again"),
            "lapsed" => ("lapsed", $"Lapsed{why}"),
            "executed" => ("execution", $"Executed upstream{Duration(r.DurationMs)}"),
            "execution_failed" => ("execution", $"Execution failed{Duration(r.DurationMs)}{why}"),
            "escalated" => ("escalated", $"Escalated{why}"),
            "reminded" => ("reminded", $"Reminder sent{why}"),
            "arguments_edited" => ("edited", $"Arguments changed before approval{by}{where}{why}"),
            "edit_refused" => ("refused", $"Edit refused{by}{where}{why}"),
            "grant_created" => ("grant", $"Approved for a while{by}{where}: grant {r.GrantId} {r.Reason}"),
            "allowed_by_grant" => ("grant_used", $"A later call ran without a card under grant {r.GrantId}"),
            "grant_revoked" => ("grant_ended", $"Grant {r.GrantId} revoked{by}{where}{why}"),
            "grant_expired" => ("grant_ended", $"Grant {r.GrantId} expired"),
            "grant_rule_removed" or "grant_rule_changed" => ("grant_ended", $"Grant {r.GrantId} ended{why}"),
            _ => (r.Decision, r.Decision + why),
        };
        return new(r.Id, r.At, kind, r.Decision, summary, r.Agent, r.Actor, r.Channel, r.Reference, r.Reason, r.Rule, r.Digest, r.DurationMs);
    }

    private static string Short(string? digest) => digest is { Length: > 12 } ? digest[..12] + "…" : digest ?? "-";

    private static string Duration(double? ms) => ms is { } value ? string.Create(CultureInfo.InvariantCulture, $" in {value:0} ms") : "";
}
