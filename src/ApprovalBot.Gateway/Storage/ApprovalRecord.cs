using System.Text.Json;
using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Gateway.Storage;

/// <summary>An approval as the gateway stores it (arguments only in redacted form).</summary>
/// <param name="GrantsOffered">The rule's <c>grants</c> when the approval was opened: what an approver may approve for.</param>
/// <param name="GrantScope">The rule's <c>grant_scope</c> then (<c>tool</c> or <c>arguments</c>); null without grants.</param>
/// <param name="RuleFingerprint">The rule's fingerprint then: a grant is usable only while the rule is unchanged.</param>
/// <param name="GrantId">The grant this approval gave, if it was approved for a while.</param>
/// <param name="Editable">The rule's <c>editable</c> when the approval was opened.</param>
/// <param name="EditedArguments">Approved with changed arguments: the edit as written (masked values stay masked; no secret).</param>
/// <param name="EditedDigest">The digest the edit is bound with (the original's is <see cref="Digest"/>).</param>
/// <param name="EscalateAt">When, still pending, <see cref="EscalateTo"/> are added and told (the rule's <c>escalate</c>).</param>
/// <param name="EscalatedAt">When that happened.</param>
/// <param name="RemindedAt">When the one reminder before expiry went out.</param>
public sealed record ApprovalRecord(
    Guid Id,
    string Tool,
    string Upstream,
    string Agent,
    string ArgumentsRedacted,
    string Digest,
    string? Reason,
    string Rule,
    IReadOnlyList<string> Approvers,
    int ApprovalsRequired,
    IReadOnlyList<string> ApprovedBy,
    ApprovalStatus Status,
    string WaitMode,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    string? DecidedBy,
    string? DecidedByName,
    string? DecidedChannel,
    string? Comment,
    DateTimeOffset? ResolvedAt,
    string Instance,
    DateTimeOffset? ClaimedAt = null,
    IReadOnlyList<TimeSpan>? GrantsOffered = null,
    string? GrantScope = null,
    string? RuleFingerprint = null,
    Guid? GrantId = null,
    bool Editable = false,
    string? EditedArguments = null,
    string? EditedDigest = null,
    DateTimeOffset? EscalateAt = null,
    IReadOnlyList<string>? EscalateTo = null,
    DateTimeOffset? EscalatedAt = null,
    DateTimeOffset? RemindedAt = null)
{
    public ApprovalSnapshot ToSnapshot() =>
        new(Id, Tool, Status, Approvers, ApprovalsRequired, ApprovedBy, ExpiresAt, DecidedByName ?? (Status == ApprovalStatus.Expired ? "timeout" : null));

    /// <summary>
    /// <see cref="ArgumentsRedacted"/> as JSON for the audit API and webhook bodies; null if the stored
    /// text does not parse, so one bad row never breaks a timeline or an audit write.
    /// </summary>
    public JsonElement? ArgumentsRedactedJson()
    {
        try
        {
            using var document = JsonDocument.Parse(ArgumentsRedacted);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
