using System.Security.Cryptography;
using System.Text;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Replies;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol.Protocol;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Grants;

/// <summary>
/// Every change of a time-boxed grant goes through here — created (with its approval, see
/// <see cref="ApprovalLifecycle"/>), used, revoked, expired, ended by a policy reload: the store's
/// conditional write first, then an audit row, then the bus. What could not be published is
/// published again by <see cref="GrantMaintenance"/>.
/// </summary>
public sealed partial class GrantLifecycle(
    GatewayStore store,
    IGrantEvents events,
    AuditTrail audit,
    GatewayInstance instance,
    TimeProvider time,
    ILogger<GrantLifecycle> logger)
{
    /// <summary>The grant an approval for <paramref name="duration"/> gives; stored by the lifecycle together with the approval's move to Approved.</summary>
    public GrantRecord NewGrant(ApprovalRecord approval, Approver by, string channel, TimeSpan duration, DateTimeOffset now)
    {
        var scope = approval.GrantScope == GrantRecord.ArgumentsScope ? GrantRecord.ArgumentsScope : GrantRecord.ToolScope;
        // Whole milliseconds, as stored: the decider is told exactly the end every reader sees.
        now = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        return new GrantRecord(
            Guid.NewGuid(), approval.Id, approval.Agent, approval.Tool, approval.Upstream, approval.Rule, approval.RuleFingerprint ?? "",
            scope, scope == GrantRecord.ArgumentsScope ? approval.Digest : null, by.Principal, by.DisplayName, channel, approval.Approvers,
            now, now + duration, instance.Id);
    }

    /// <summary>After the grant was stored: audited, then announced to the bots.</summary>
    public async Task AnnounceCreatedAsync(GrantRecord grant, CancellationToken cancellationToken)
    {
        audit.Record(new AuditEntry(
            grant.CreatedAt, "grant_created", grant.Agent, grant.Tool, grant.Rule,
            $"for {PolicyDuration.Format(grant.ExpiresAt - grant.CreatedAt)} until {AgentReplies.Time(grant.ExpiresAt)}, scope {grant.Scope}",
            Digest: grant.Digest, ApprovalId: grant.ApprovalId, Actor: grant.GrantedBy, Channel: grant.Channel, GrantId: grant.Id));
        LogGrantCreated(logger, grant.Id, grant.Tool, grant.Agent, grant.GrantedBy, grant.ExpiresAt);
        await PublishCreatedAsync(grant, cancellationToken);
    }

    /// <summary>
    /// The grant that lets this call through, if any: active (not ended, not expired now), for the
    /// agent and tool, given under the very rule that decides the call now and unchanged since, and
    /// for scope <c>arguments</c> with the same argument digest.
    /// </summary>
    public async Task<GrantRecord?> FindUsableAsync(string agent, string tool, PolicyDecision decision, string digest, CancellationToken cancellationToken)
    {
        if (decision.Fingerprint.Length == 0)
        {
            return null; // built-in decisions (a require_approval default) never offer grants
        }

        if (decision.Grants.Count == 0)
        {
            // No query: a grant was given under a rule offering grants, and the fingerprint covers the
            // rule's "grants", so no grant can match a rule that offers none.
            return null;
        }

        foreach (var grant in await store.FindActiveGrantsAsync(agent, tool, time.GetUtcNow(), cancellationToken))
        {
            if (grant.Rule == decision.Rule
                && grant.RuleFingerprint == decision.Fingerprint
                && (grant.Scope == GrantRecord.ToolScope || (grant.Digest is { } bound && SameDigest(bound, digest))))
            {
                return grant;
            }
        }

        return null;
    }

    /// <summary>Runs a call a grant lets through: audited as allowed_by_grant first, then forwarded; the result says which grant.</summary>
    public async ValueTask<CallToolResult> RunAsync(
        GrantRecord grant, GuardedCall call, string digest, UpstreamCall execute, CancellationToken cancellationToken)
    {
        audit.Record(new AuditEntry(
            time.GetUtcNow(), "allowed_by_grant", call.Agent, call.Tool, call.Decision.Rule,
            $"grant {grant.Id} given by {grant.GrantedByName} until {AgentReplies.Time(grant.ExpiresAt)}",
            Digest: digest, ApprovalId: grant.ApprovalId, Actor: grant.GrantedBy, GrantId: grant.Id));
        LogAllowedByGrant(logger, call.Tool, call.Agent, grant.Id, grant.GrantedBy);
        var result = await execute(call.Arguments, cancellationToken);
        return AgentReplies.AllowedByGrant(result, grant);
    }

    /// <summary>A person's "revoke": the grantor or one of the rule's approvers may; the grant ends at once.</summary>
    public async Task<GrantRevokeOutcome> RevokeAsync(GrantRevoke request, CancellationToken cancellationToken)
    {
        var grant = await store.GetGrantAsync(request.GrantId, cancellationToken);
        if (grant is null)
        {
            return new(request.GrantId, false, $"No grant {request.GrantId} on this gateway.");
        }

        if (!MayRevoke(grant, request.By))
        {
            audit.Record(new AuditEntry(
                time.GetUtcNow(), "revoke_refused", grant.Agent, grant.Tool, grant.Rule, "not the grantor or an approver",
                ApprovalId: grant.ApprovalId, Actor: request.By.Principal, Channel: request.Channel, GrantId: grant.Id));
            return new(grant.Id, false, $"{request.By.DisplayName} may not revoke this grant: only whoever gave it or an approver of {grant.Tool} may.");
        }

        var now = time.GetUtcNow();
        if (grant.EndedAt is null && grant.ExpiresAt <= now)
        {
            // Past its expiry: ended by the sweep as expired, not revoked.
            await SweepAsync(cancellationToken);
            grant = await store.GetGrantAsync(grant.Id, cancellationToken) ?? grant;
        }

        if (grant.EndedAt is not null)
        {
            return AlreadyEnded(grant);
        }

        if (await store.TryEndGrantAsync(grant.Id, GrantEndReasons.Revoked, now, request.By.Principal, request.By.DisplayName, request.Comment, cancellationToken))
        {
            // What a re-read would return: only the end columns changed (nothing else of a grant is ever
            // updated), the time in whole milliseconds as stored.
            var ended = grant with
            {
                EndedAt = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()),
                EndReason = GrantEndReasons.Revoked,
                EndedBy = request.By.Principal,
                EndedByName = request.By.DisplayName,
                EndComment = request.Comment,
            };
            await AfterEndedAsync(ended, request.Channel, cancellationToken);
            return new(grant.Id, true, $"Grant revoked: calls of agent '{grant.Agent}' to {grant.Tool} ask for approval again.");
        }

        // Ended just now by someone else: a re-read says how (an end is written once).
        return AlreadyEnded(await store.GetGrantAsync(grant.Id, cancellationToken) ?? grant);
    }

    /// <summary>Ends every open grant past its expiry (a usable grant is checked against the clock anyway).</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var grant in await store.ExpireDueGrantsAsync(time.GetUtcNow(), cancellationToken))
        {
            await AfterEndedAsync(grant, null, cancellationToken);
        }
    }

    /// <summary>
    /// After a policy (re)load: ends every open grant whose rule is gone (rule_removed) or reads
    /// differently now (rule_changed). A grant is never used for a changed rule anyway; this makes it
    /// show as ended, audited, everywhere.
    /// </summary>
    public async Task ReconcileAsync(Policy policy, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var grant in await store.ListOpenGrantsAsync(cancellationToken))
        {
            var rule = policy.FindRule(grant.Rule);
            var reason = rule is null ? GrantEndReasons.RuleRemoved
                : rule.Fingerprint != grant.RuleFingerprint ? GrantEndReasons.RuleChanged
                : null;
            if (reason is not null && await store.TryEndGrantAsync(grant.Id, reason, now, null, null, null, cancellationToken))
            {
                await AfterEndedAsync(grant with { EndedAt = now, EndReason = reason }, null, cancellationToken);
            }
        }
    }

    /// <summary>Publishes what a previous attempt (or process) stored but could not publish.</summary>
    public async Task RepublishAsync(CancellationToken cancellationToken)
    {
        foreach (var (grant, createdPublished, endedPublished) in await store.ListUnpublishedGrantsAsync(instance.Id, cancellationToken))
        {
            if (!createdPublished)
            {
                await PublishCreatedAsync(grant, cancellationToken);
            }

            if (!endedPublished && grant.EndedAt is not null)
            {
                await PublishEndedAsync(grant, cancellationToken);
            }
        }
    }

    private static GrantRevokeOutcome AlreadyEnded(GrantRecord grant) => new(grant.Id, false, $"This grant already ended ({Describe(grant)}).");

    public static bool MayRevoke(GrantRecord grant, Approver by) =>
        string.Equals(grant.GrantedBy, by.Principal, StringComparison.Ordinal) || ApprovalJudge.MayDecide(grant.Revokers, by);

    /// <summary>"revoked by Ada", "expired", "its rule was removed from the policy", "its rule changed".</summary>
    public static string Describe(GrantRecord grant) => grant.EndReason switch
    {
        GrantEndReasons.Revoked => $"revoked by {grant.EndedByName ?? grant.EndedBy ?? "someone"}",
        GrantEndReasons.Expired => "expired",
        GrantEndReasons.RuleRemoved => "its rule was removed from the policy",
        GrantEndReasons.RuleChanged => "its rule changed",
        null => "active",
        var other => other,
    };

    private async Task AfterEndedAsync(GrantRecord grant, string? channel, CancellationToken cancellationToken)
    {
        var reason = grant.EndReason ?? "ended";
        audit.Record(new AuditEntry(
            grant.EndedAt ?? time.GetUtcNow(), "grant_" + reason, grant.Agent, grant.Tool, grant.Rule, grant.EndComment ?? Describe(grant),
            Digest: grant.Digest, ApprovalId: grant.ApprovalId, Actor: grant.EndedBy, Channel: channel, GrantId: grant.Id));
        LogGrantEnded(logger, grant.Id, grant.Tool, grant.Agent, reason);
        await PublishEndedAsync(grant, cancellationToken);
    }

    private async Task PublishCreatedAsync(GrantRecord grant, CancellationToken cancellationToken)
    {
        try
        {
            await events.PublishGrantCreatedAsync(
                new GrantCreated(
                    grant.Id, grant.ApprovalId, grant.Agent, grant.Tool, grant.Upstream, grant.Rule, grant.Scope, grant.Digest,
                    ApprovalLifecycle.ToApprover(grant.GrantedBy, grant.GrantedByName), grant.Channel, grant.CreatedAt, grant.ExpiresAt, grant.Revokers,
                    events.GatewayAddress, grant.Instance),
                cancellationToken);
            await store.MarkGrantPublishedAsync(grant.Id, ended: false, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, grant.Id, nameof(GrantCreated), e.Message);
        }
    }

    private async Task PublishEndedAsync(GrantRecord grant, CancellationToken cancellationToken)
    {
        try
        {
            var by = grant.EndedBy is { } principal ? ApprovalLifecycle.ToApprover(principal, grant.EndedByName) : null;
            await events.PublishGrantEndedAsync(
                new GrantEnded(grant.Id, grant.EndReason ?? GrantEndReasons.Expired, by, grant.EndComment, grant.EndedAt ?? time.GetUtcNow()), cancellationToken);
            await store.MarkGrantPublishedAsync(grant.Id, ended: true, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, grant.Id, nameof(GrantEnded), e.Message);
        }
    }

    private static bool SameDigest(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));

    [LoggerMessage(EventName = "GrantCreated", Level = LogLevel.Information, Message = "Grant {GrantId}: {Tool} for agent {Agent} without approval until {ExpiresAt}, given by {Principal}")]
    private static partial void LogGrantCreated(ILogger logger, Guid grantId, string tool, string agent, string principal, DateTimeOffset expiresAt);

    [LoggerMessage(EventName = "CallAllowedByGrant", Level = LogLevel.Information, Message = "allowed_by_grant {Tool} for agent {Agent} by grant {GrantId} of {Principal}")]
    private static partial void LogAllowedByGrant(ILogger logger, string tool, string agent, Guid grantId, string principal);

    [LoggerMessage(EventName = "GrantEnded", Level = LogLevel.Information, Message = "Grant {GrantId} ({Tool} for agent {Agent}) ended: {Reason}")]
    private static partial void LogGrantEnded(ILogger logger, Guid grantId, string tool, string agent, string reason);

    [LoggerMessage(EventName = "GrantPublishFailed", Level = LogLevel.Warning, Message = "Could not publish {Message} for grant {GrantId} (will retry): {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, Guid grantId, string message, string reason);
}
