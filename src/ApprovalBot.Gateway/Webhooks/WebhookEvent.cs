using System.Text.Json;
using System.Text.Json.Serialization;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Webhooks;

/// <summary>
/// The body of every webhook POST, version 1 (schemas/webhook-event.schema.json). Every property is
/// always present (null when it does not apply), so receivers can rely on the shape. Arguments
/// appear only as the gateway stores them: redacted.
/// </summary>
/// <param name="Id">The event's id: the same in every retry and for every webhook (de-duplicate on it).</param>
/// <param name="Type">One of <see cref="WebhookEvents.All"/>.</param>
/// <param name="Decision">The audit decision behind the event (approved, denied_by_human, cancelled, executed, …).</param>
/// <param name="Reason">The rule's reason, the decider's comment or the failure summary, redacted.</param>
public sealed record WebhookEvent(
    string SpecVersion,
    Guid Id,
    string Type,
    DateTimeOffset OccurredAt,
    string Gateway,
    string Decision,
    string? Agent,
    string? Tool,
    string? Rule,
    string? Reason,
    string? Digest,
    WebhookActor? Actor,
    WebhookApproval? Approval,
    WebhookExecution? Execution)
{
    public const string CurrentVersion = "1";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = false,
    };
}

/// <summary>Who decided, and where (<c>slack:U123</c> in slack).</summary>
public sealed record WebhookActor(string Principal, string? Channel);

/// <summary>The approval as stored when the event was recorded.</summary>
/// <param name="Arguments">The redacted arguments object (secrets read "[redacted]").</param>
public sealed record WebhookApproval(
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
    DateTimeOffset? ResolvedAt)
{
    public static WebhookApproval From(ApprovalRecord r) => new(
        r.Id, r.Status.ToString(), r.Tool, r.Upstream, r.Agent, r.Rule, r.Reason, r.Digest, r.ArgumentsRedactedJson(), r.Approvers,
        r.ApprovalsRequired, r.ApprovedBy, r.RequestedAt, r.ExpiresAt, r.DecidedBy, r.DecidedByName, r.DecidedChannel, r.Comment,
        r.ResolvedAt);
}

/// <summary>How an approved call went upstream.</summary>
public sealed record WebhookExecution(bool Succeeded, double? DurationMs, string? Summary);
