using System.Globalization;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Front;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Parking;

/// <summary>What the agent is told about its guarded call: plain sentences a model can act on, details under <c>_meta.approvalbot</c>.</summary>
public static class ApprovalReplies
{
    /// <summary>Handed back before the client gives up: nothing ran, and the identical call waits again or collects the outcome.</summary>
    public static CallToolResult Pending(ApprovalRecord record, string channels, DateTimeOffset now)
    {
        var remaining = record.ExpiresAt - now;
        var retryAfter = (int)Math.Clamp(Math.Ceiling(remaining.TotalSeconds), 1, 30);
        var details = Details("approval_pending", record);
        details["status"] = "pending";
        details["retryAfterSeconds"] = retryAfter;
        return ProxyErrors.Refusal(
            $"Waiting for approval: {record.Tool} needs a human decision ({record.Reason ?? "guarded tool"}). {Who(record)} {(record.Approvers.Count == 1 ? "was" : "were")} asked in {channels} "
            + $"(approval {record.Id}, open until {Time(record.ExpiresAt)}). Nothing has run yet. Call {record.Tool} again with exactly the same arguments "
            + "to wait for the decision or collect the result (it runs once, after approval); different arguments ask anew.",
            details);
    }

    public static CallToolResult Denied(ApprovalRecord record, HeldOutcome outcome)
    {
        var who = outcome.By?.DisplayName ?? record.DecidedByName ?? "an approver";
        var comment = outcome.Comment ?? record.Comment;
        var why = string.IsNullOrWhiteSpace(comment) ? "no reason given" : comment;
        var details = Details("denied", record);
        details["status"] = "denied";
        details["deniedBy"] = outcome.By?.Principal ?? record.DecidedBy;
        details["comment"] = comment;
        return ProxyErrors.Refusal($"Denied: {who} denied {record.Tool} ({why}). The call was not made.", details);
    }

    public static CallToolResult Expired(ApprovalRecord record)
    {
        var details = Details("expired", record);
        details["status"] = "expired";
        return ProxyErrors.Refusal(
            $"Expired: nobody decided on approval {record.Id} for {record.Tool} before {Time(record.ExpiresAt)}. It was not denied; the call was not made. Ask again with other arguments, or after a while, if it is still needed.",
            details);
    }

    public static CallToolResult Withdrawn(ApprovalRecord record, HeldOutcome outcome)
    {
        var who = outcome.By?.DisplayName ?? record.DecidedByName;
        var details = Details("cancelled", record);
        details["status"] = "cancelled";
        return ProxyErrors.Refusal(
            $"Withdrawn: approval {record.Id} for {record.Tool} was withdrawn{(who is null ? "" : " by " + who)} ({outcome.Comment ?? record.Comment ?? "no reason given"}); the call was not made.",
            details);
    }

    public static CallToolResult NotApproved(ApprovalRecord record) =>
        ProxyErrors.Refusal($"Approval {record.Id} is {record.Status}; the call was not made.", Details("not_approved", record));

    public static CallToolResult AlreadyCollected(ApprovalRecord record) =>
        ProxyErrors.Refusal(
            $"Approval {record.Id} for {record.Tool} was already collected by another call of this agent; this call was not made. Its outcome went to that call.",
            Details("already_collected", record));

    public static CallToolResult DigestMismatch(ApprovalRecord record) =>
        ProxyErrors.Refusal($"Refused: the arguments differ from those approved in {record.Id}; the call was not made.", Details("digest_mismatch", record));

    public static CallToolResult Flooded(string agent, int pending, int limit) =>
        ProxyErrors.Refusal(
            $"Refused: agent '{agent}' already has {pending} approvals waiting (limit {limit}). Wait for a decision before asking again.",
            new JsonObject { ["decision"] = "approval_cap", ["pending"] = pending, ["limit"] = limit });

    /// <summary>The reply for a final outcome, whether the call waited for it or came back for it.</summary>
    public static CallToolResult For(ApprovalRecord record, HeldOutcome outcome) => outcome.Status switch
    {
        ApprovalStatus.Denied => Denied(record, outcome),
        ApprovalStatus.Expired => Expired(record),
        ApprovalStatus.Cancelled => Withdrawn(record, outcome),
        _ => NotApproved(record),
    };

    /// <summary>What goes under <c>_meta.approvalbot</c>.</summary>
    public static JsonObject Details(string decision, ApprovalRecord record) => new()
    {
        ["decision"] = decision,
        ["approvalId"] = record.Id.ToString(),
        ["rule"] = record.Rule,
        ["reason"] = record.Reason,
        ["expiresAt"] = record.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
    };

    private static string Who(ApprovalRecord record) => record.Approvers.Count switch
    {
        0 => "Any approver",
        <= 3 => string.Join(", ", record.Approvers),
        _ => string.Join(", ", record.Approvers.Take(3)) + $" and {record.Approvers.Count - 3} more",
    };

    private static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
