using System.Globalization;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Replies;

/// <summary>
/// Everything the gateway itself says to an agent (as opposed to what an upstream answers): one
/// place, so the answers read the same everywhere. Refusals are tool results the model can read —
/// <c>isError</c>, a plain sentence, details under <c>_meta.approvalbot</c>; protocol errors are
/// reserved for what a plain server would also refuse (unknown tool, bad cursor, invalid params).
/// </summary>
public static class AgentReplies
{
    /// <summary>Hidden and unknown tools share this exact error, so hiding cannot be detected.</summary>
    public static McpProtocolException UnknownTool(string? name) =>
        new($"Unknown tool: '{name}'", McpErrorCode.InvalidParams);

    public static McpProtocolException UnknownPrompt(string? name) =>
        new($"Unknown prompt: '{name}'", McpErrorCode.InvalidParams);

    public static McpProtocolException InvalidCursor() => new("Invalid cursor", McpErrorCode.InvalidParams);

    /// <summary>The tool exists (its upstream's last known catalogue) but its upstream is down.</summary>
    public static CallToolResult UpstreamUnavailable(UpstreamUnavailableException e) =>
        Refusal(e.Message, new JsonObject { ["decision"] = "upstream_unavailable", ["upstream"] = e.Upstream, ["reason"] = e.Reason });

    /// <summary>The upstream did not answer within its CallTimeout.</summary>
    public static CallToolResult UpstreamTimedOut(UpstreamTimeoutException e) =>
        Refusal(e.Message, new JsonObject { ["decision"] = "upstream_timeout", ["upstream"] = e.Upstream, ["timeoutSeconds"] = e.Timeout.TotalSeconds });

    /// <summary>A tool result the model can read: <c>isError</c>, a plain sentence, details under <c>_meta.approvalbot</c>.</summary>
    public static CallToolResult Refusal(string sentence, JsonObject details) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = sentence }],
        Meta = new JsonObject { ["approvalbot"] = details },
    };

    public static CallToolResult DeniedByPolicy(string tool, string agent, PolicyDecision decision) =>
        Refusal(
            $"Denied by policy: {tool} is not allowed for agent '{agent}'" + (decision.Reason is { Length: > 0 } reason ? $" ({reason})." : "."),
            new JsonObject { ["decision"] = "deny", ["rule"] = decision.Rule, ["reason"] = decision.Reason });

    public static CallToolResult RateLimited(string tool, string agent, PolicyDecision decision, RateLimit limit, TimeSpan retryAfter) =>
        Refusal(
            $"Rate limited: {tool} allows {limit.Max} calls per {limit.WindowSeconds} s for agent '{agent}'. Retry after {retryAfter.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.",
            new JsonObject
            {
                ["decision"] = "rate_limited",
                ["rule"] = decision.Rule,
                ["retryAfterSeconds"] = retryAfter.TotalSeconds,
                ["limit"] = new JsonObject { ["max"] = limit.Max, ["window"] = limit.WindowSeconds },
            });

    public static McpProtocolException DuplicateArgument(string tool, string duplicate) =>
        new($"Invalid arguments for {tool}: '{duplicate}' appears more than once; send each key once.", McpErrorCode.InvalidParams);

    // ---- approvals: held, handed back, collected, decided ----

    /// <summary>Handed back before the client gives up: nothing ran, and the identical call waits again or collects the outcome.</summary>
    public static CallToolResult Pending(ApprovalRecord record, string channels, DateTimeOffset now)
    {
        var remaining = record.ExpiresAt - now;
        var retryAfter = (int)Math.Clamp(Math.Ceiling(remaining.TotalSeconds), 1, 30);
        var details = Details("approval_pending", record);
        details["status"] = "pending";
        details["retryAfterSeconds"] = retryAfter;
        return Refusal(
            $"Waiting for approval: {record.Tool} needs a human decision ({record.Reason ?? "guarded tool"}). {Who(record)} {(record.Approvers.Count == 1 ? "was" : "were")} asked in {channels} "
            + $"(approval {record.Id}, open until {Time(record.ExpiresAt)}). Nothing has run yet. Call {record.Tool} again with exactly the same arguments "
            + "to wait for the decision or collect the result (it runs once, after approval); different arguments ask anew.",
            details);
    }

    public static CallToolResult Denied(ApprovalRecord record, Approver? by, string? comment)
    {
        var who = by?.DisplayName ?? record.DecidedByName ?? "an approver";
        comment ??= record.Comment;
        var why = string.IsNullOrWhiteSpace(comment) ? "no reason given" : comment;
        var details = Details("denied", record);
        details["status"] = "denied";
        details["deniedBy"] = by?.Principal ?? record.DecidedBy;
        details["comment"] = comment;
        return Refusal($"Denied: {who} denied {record.Tool} ({why}). The call was not made.", details);
    }

    public static CallToolResult Expired(ApprovalRecord record)
    {
        var details = Details("expired", record);
        details["status"] = "expired";
        return Refusal(
            $"Expired: nobody decided on approval {record.Id} for {record.Tool} before {Time(record.ExpiresAt)}. It was not denied; the call was not made. Ask again with other arguments, or after a while, if it is still needed.",
            details);
    }

    public static CallToolResult Withdrawn(ApprovalRecord record, Approver? by, string? comment)
    {
        var who = by?.DisplayName ?? record.DecidedByName;
        var details = Details("cancelled", record);
        details["status"] = "cancelled";
        return Refusal(
            $"Withdrawn: approval {record.Id} for {record.Tool} was withdrawn{(who is null ? "" : " by " + who)} ({comment ?? record.Comment ?? "no reason given"}); the call was not made.",
            details);
    }

    public static CallToolResult NotApproved(ApprovalRecord record) =>
        Refusal($"Approval {record.Id} is {record.Status}; the call was not made.", Details("not_approved", record));

    public static CallToolResult AlreadyCollected(ApprovalRecord record) =>
        Refusal(
            $"Approval {record.Id} for {record.Tool} was already collected by another call of this agent; this call was not made. Its outcome went to that call.",
            Details("already_collected", record));

    public static CallToolResult DigestMismatch(ApprovalRecord record) =>
        Refusal($"Refused: the arguments differ from those approved in {record.Id}; the call was not made.", Details("digest_mismatch", record));

    public static CallToolResult Flooded(string agent, int pending, int limit) =>
        Refusal(
            $"Refused: agent '{agent}' already has {pending} approvals waiting (limit {limit}). Wait for a decision before asking again.",
            new JsonObject { ["decision"] = "approval_cap", ["pending"] = pending, ["limit"] = limit });

    /// <summary>The reply for a final outcome, whether the call waited for it or came back for it.</summary>
    public static CallToolResult ForOutcome(ApprovalRecord record, ApprovalStatus status, Approver? by, string? comment) => status switch
    {
        ApprovalStatus.Denied => Denied(record, by, comment),
        ApprovalStatus.Expired => Expired(record),
        ApprovalStatus.Cancelled => Withdrawn(record, by, comment),
        _ => NotApproved(record),
    };

    /// <summary>
    /// A call that a time-boxed grant let through, without a card: the upstream's own result, with
    /// <c>_meta.approvalbot</c> saying which grant, who gave it and until when.
    /// </summary>
    public static CallToolResult AllowedByGrant(CallToolResult result, GrantRecord grant)
    {
        result.Meta ??= [];
        result.Meta["approvalbot"] = new JsonObject
        {
            ["decision"] = "allowed_by_grant",
            ["grantId"] = grant.Id.ToString(),
            ["grantedBy"] = grant.GrantedBy,
            ["grantedByName"] = grant.GrantedByName,
            ["until"] = Iso(grant.ExpiresAt),
            ["scope"] = grant.Scope,
            ["rule"] = grant.Rule,
            ["approvalId"] = grant.ApprovalId.ToString(),
        };
        return result;
    }

    /// <summary>
    /// The call whose approval gave a grant ran: the upstream's own result, with <c>_meta.approvalbot</c>
    /// saying that later calls run without asking until the grant ends.
    /// </summary>
    public static CallToolResult ApprovedWithGrant(CallToolResult result, ApprovalRecord record, GrantRecord grant)
    {
        var details = Details("approved", record);
        details["status"] = "approved";
        details["approvedBy"] = record.DecidedBy;
        details["grantId"] = grant.Id.ToString();
        details["until"] = Iso(grant.ExpiresAt);
        details["scope"] = grant.Scope;
        result.Meta ??= [];
        result.Meta["approvalbot"] = details;
        return result;
    }

    /// <summary>
    /// The call ran with arguments an approver changed: the upstream's own result, then a sentence
    /// saying so (who, and what ran, secrets masked), the same under <c>_meta.approvalbot</c>.
    /// </summary>
    public static CallToolResult ApprovedWithEdit(CallToolResult result, ApprovalRecord record)
    {
        var who = record.DecidedByName ?? record.DecidedBy ?? "an approver";
        result.Content.Add(new TextContentBlock
        {
            Text = $"Note: {who} changed the arguments before approving. {record.Tool} ran with {record.EditedArguments} instead of {record.ArgumentsRedacted} (hidden values unchanged).",
        });
        var details = Details("approved", record);
        details["status"] = "approved";
        details["approvedBy"] = record.DecidedBy;
        details["argumentsEdited"] = true;
        details["editedBy"] = record.DecidedBy;
        details["ranWith"] = JsonNode.Parse(record.EditedArguments ?? "{}");
        details["requested"] = JsonNode.Parse(record.ArgumentsRedacted);
        details["originalDigest"] = record.Digest;
        details["digest"] = record.EditedDigest;
        result.Meta ??= [];
        result.Meta["approvalbot"] = details;
        return result;
    }

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

    private static string Iso(DateTimeOffset at) => at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A moment as agents and the audit read it; grants use it too.</summary>
    internal static string Time(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
