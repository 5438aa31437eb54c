using System.Text.Json;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Core.Redaction;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Grants;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Telemetry;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Parking;

/// <summary>
/// Every change of an approval goes through here — opened, joined, claimed, decided, expired,
/// withdrawn, lapsed, executed: one conditional UPDATE, then an audit row, then the waiting calls,
/// then the bus. Persist first, publish after; what could not be published is published again
/// later (<see cref="RepublishAsync"/>).
/// </summary>
public sealed partial class ApprovalLifecycle(
    GatewayStore store,
    HeldCalls held,
    IApprovalEvents events,
    AuditTrail audit,
    GatewayInstance instance,
    ApprovalOptions options,
    SecretRedactor redactor,
    TimeProvider time,
    ILogger<ApprovalLifecycle> logger,
    GatewayTelemetry? telemetry = null,
    GrantLifecycle? grants = null,
    IArgumentEdits? edits = null)
{
    private long _publishFailures;

    /// <summary>How long another replica's unsent Requested/Resolved waits before this one sends it (its owner retries every 30 s).</summary>
    public static readonly TimeSpan AdoptUnsentAfter = TimeSpan.FromMinutes(2);

    /// <summary>How many Requested/Resolved publishes failed (and are waiting for <see cref="RepublishAsync"/>).</summary>
    public long PublishFailures => Interlocked.Read(ref _publishFailures);

    /// <summary>A new approval for a guarded call: stored Pending, audited as held, announced to the bots.</summary>
    public async Task<ApprovalRecord> OpenAsync(GuardedCall call, string digest, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var decision = call.Decision;
        var expiresAt = now + (decision.Timeout ?? options.DefaultTimeout);
        // An escalation due only after the expiry would never happen (the parser checks a rule's own timeout; this the configured default).
        var escalation = decision.Escalation is { } rule && now + rule.After < expiresAt ? rule : null;
        var record = new ApprovalRecord(
            Guid.NewGuid(), call.Tool, call.Upstream, call.Agent, redactor.RedactToJson(call.Arguments as IReadOnlyDictionary<string, JsonElement> ?? (call.Arguments is null ? null : new Dictionary<string, JsonElement>(call.Arguments))), digest,
            decision.Reason, decision.Rule, decision.Approvers, Math.Max(1, decision.ApprovalsRequired), [],
            ApprovalStatus.Pending, decision.Wait.ToWireName(), now, expiresAt,
            null, null, null, null, null, instance.Id,
            GrantsOffered: grants is null ? null : decision.Grants,
            GrantScope: decision.Grants.Count > 0 ? decision.GrantScope.ToWireName() : null,
            RuleFingerprint: decision.Fingerprint,
            Editable: edits is not null && decision.Editable && decision.ApprovalsRequired <= 1,
            EscalateAt: escalation is null ? null : now + escalation.After,
            EscalateTo: escalation?.To);
        await store.InsertApprovalAsync(record, cancellationToken);
        Audit(record, "held", call.Agent);
        telemetry?.CallDecided("held", call.Tool);
        LogApprovalRequested(logger, record.Id, record.Tool, record.Agent, record.ExpiresAt);
        // Persisted first: if the bus is down now, the republisher sends it later and the timer still runs.
        await PublishRequestedAsync(record, cancellationToken);
        return record;
    }

    /// <summary>The agent's identical call came back: it waits for, collects or is told the outcome of <paramref name="record"/>.</summary>
    public void RecordRedeem(ApprovalRecord record, string what)
    {
        Audit(record, what, record.Agent);
        telemetry?.CallDecided(what, record.Tool);
    }

    /// <summary>A guarded call refused before any approval was opened (e.g. too many pending).</summary>
    public void RecordRefused(GuardedCall call, string digest, string what)
    {
        audit.Record(new AuditEntry(time.GetUtcNow(), what, call.Agent, call.Tool, call.Decision.Rule, null, Digest: digest));
        telemetry?.CallDecided(what, call.Tool);
    }

    /// <summary>Tells the bots whether a call of the agent is waiting (best effort: a hint on the cards, never the outcome).</summary>
    public void AnnounceWaiting(Guid id, bool waiting) =>
        _ = PublishQuietlyAsync(id, nameof(ApprovalWaiting), () => events.PublishWaitingAsync(new ApprovalWaiting(id, waiting, time.GetUtcNow()), CancellationToken.None));

    /// <summary>Single use: the one call that claims an approved approval runs it; every other gets false.</summary>
    public async Task<bool> TryClaimAsync(ApprovalRecord record, CancellationToken cancellationToken)
    {
        if (!await store.TryClaimAsync(record.Id, time.GetUtcNow(), cancellationToken, instance.Id))
        {
            return false;
        }

        Audit(record, "claimed", record.Agent);
        return true;
    }

    public async Task<ApprovalDecisionOutcome> DecideAsync(ApprovalDecision decision, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!await store.TryRememberDecisionAsync(decision.DecisionId, decision.ApprovalId, now, cancellationToken))
        {
            // A redelivered message: answer with the current state, change nothing.
            var current = await store.GetApprovalAsync(decision.ApprovalId, cancellationToken);
            // Another replica may have applied it while this one holds calls for it: release them from the database.
            await SyncHeldAsync(decision.ApprovalId, cancellationToken);
            return new(decision.ApprovalId, false, current?.Status.ToString() ?? "Unknown", "This decision was already received.");
        }

        // A lost race on the quorum list re-reads and judges again; the loop is bounded.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var record = await store.GetApprovalAsync(decision.ApprovalId, cancellationToken);
            if (record is null)
            {
                return new(decision.ApprovalId, false, "Unknown", $"No approval {decision.ApprovalId} on this gateway.");
            }

            var verdict = ApprovalJudge.Judge(record.ToSnapshot(), decision, now);
            LogDecisionJudged(logger, record.Id, decision.Approver.Principal, decision.Channel, verdict.Kind.ToString());
            TimeSpan? grantFor = null;
            if (decision.Grant is not null && verdict.Kind is VerdictKind.Approved or VerdictKind.Counted)
            {
                // Only a duration the card offered: the rule, not the click, decides how long a grant may be.
                if (grants is null || !PolicyDuration.TryParse(decision.Grant, out var asked) || record.GrantsOffered?.Contains(asked) != true)
                {
                    var offered = record.GrantsOffered is { Count: > 0 } list ? "offered: " + string.Join(", ", list.Select(PolicyDuration.Format)) : "this rule offers none";
                    return new(record.Id, false, record.Status.ToString(), $"Approving {record.Tool} for {decision.Grant} is not possible ({offered}); nothing changed.");
                }

                grantFor = asked;
            }

            EditCheck? edited = null;
            if (decision.EditedArguments is not null && verdict.Kind is VerdictKind.Approved or VerdictKind.Counted)
            {
                var refusal = !record.Editable || edits is null ? $"The arguments of {record.Tool} may not be edited here (the rule says \"editable\": false, or several approvals are needed); nothing changed."
                    : grantFor is not null ? "An edited call cannot also be approved for a while; approve the edit once, or the call as asked for a while. Nothing changed."
                    : null;
                edited = refusal is null ? await edits!.CheckAsync(record, decision.EditedArguments, cancellationToken) : EditCheck.Refused(refusal);
                if (edited.Error is { } error)
                {
                    audit.Record(new AuditEntry(now, "edit_refused", record.Agent, record.Tool, record.Rule, error, Digest: record.Digest, ApprovalId: record.Id, Actor: decision.Approver.Principal, Channel: decision.Channel));
                    return new(record.Id, false, record.Status.ToString(), error);
                }

                if (edited.Unchanged)
                {
                    edited = null; // as shown: an ordinary approval
                }
            }
            switch (verdict.Kind)
            {
                case VerdictKind.NotAnApprover:
                    audit.Record(new AuditEntry(now, "decision_refused", record.Agent, record.Tool, record.Rule, "not an approver", Digest: record.Digest, ApprovalId: record.Id, Actor: decision.Approver.Principal, Channel: decision.Channel));
                    return new(record.Id, false, record.Status.ToString(), verdict.Message);
                case VerdictKind.AlreadyDecided:
                    // Decided elsewhere (another replica, sharing the database): calls held here follow the stored outcome.
                    await SyncHeldAsync(record.Id, cancellationToken);
                    return new(record.Id, false, record.Status.ToString(), verdict.Message);
                case VerdictKind.AlreadyCounted:
                    return new(record.Id, false, record.Status.ToString(), verdict.Message);
                case VerdictKind.Expired:
                    await ExpireAsync(record.Id, cancellationToken);
                    return new(record.Id, false, nameof(ApprovalStatus.Expired), verdict.Message);
                case VerdictKind.Counted:
                    if (!await store.TryAddVoteAsync(record.Id, record.ApprovedBy, decision.Approver.Principal, cancellationToken))
                    {
                        continue;
                    }

                    audit.Record(new AuditEntry(now, "approval_counted", record.Agent, record.Tool, record.Rule, decision.Comment, Digest: record.Digest, ApprovalId: record.Id, Actor: decision.Approver.Principal, Channel: decision.Channel));
                    // Progress only: a lost message leaves the cards one vote behind, never wrong about the outcome.
                    _ = PublishQuietlyAsync(
                        record.Id,
                        nameof(ApprovalVoted),
                        () => events.PublishVotedAsync(new ApprovalVoted(record.Id, decision.Approver, record.ApprovedBy.Count + 1, record.ApprovalsRequired, now), CancellationToken.None));
                    return new(record.Id, true, nameof(ApprovalStatus.Pending), verdict.Message);
                case VerdictKind.Approved:
                case VerdictKind.Denied:
                case VerdictKind.Withdrawn:
                    var to = verdict.Kind switch
                    {
                        VerdictKind.Approved => ApprovalStatus.Approved,
                        VerdictKind.Denied => ApprovalStatus.Denied,
                        _ => ApprovalStatus.Cancelled,
                    };
                    var grant = to == ApprovalStatus.Approved && grantFor is { } duration
                        ? grants!.NewGrant(record, decision.Approver, decision.Channel, duration, now)
                        : null;
                    var moved = grant is not null
                        ? await store.TryApproveWithGrantAsync(
                            record.Id, now, decision.Approver.Principal, decision.Approver.DisplayName, decision.Channel, decision.Comment, grant, cancellationToken)
                        : to == ApprovalStatus.Approved && edited is { Edit: { } edit, Digest: { } editDigest }
                        ? await store.TryApproveWithEditAsync(
                            record.Id, now, decision.Approver.Principal, decision.Approver.DisplayName, decision.Channel, decision.Comment, edit, editDigest, cancellationToken)
                        : await store.TryTransitionAsync(
                            record.Id, ApprovalStatus.Pending, to, now,
                            decision.Approver.Principal, decision.Approver.DisplayName, decision.Channel, decision.Comment,
                            addApprover: to == ApprovalStatus.Approved ? decision.Approver.Principal : null,
                            cancellationToken: cancellationToken);
                    if (!moved)
                    {
                        continue;
                    }

                    if (to == ApprovalStatus.Approved && edited is { Edit: not null, Digest: { } newDigest })
                    {
                        // Both digests: the agent's call still has to match the original; what runs is bound by the new one.
                        audit.Record(new AuditEntry(
                            now, "arguments_edited", record.Agent, record.Tool, record.Rule, $"original digest {record.Digest}, edited digest {newDigest}",
                            Digest: newDigest, ApprovalId: record.Id, Actor: decision.Approver.Principal, Channel: decision.Channel));
                    }

                    await AfterResolvedAsync(record.Id, to, decision.Approver, decision.Comment, decision.Channel, cancellationToken);
                    if (grant is null)
                    {
                        return new(record.Id, true, to.ToString(), edited is null ? verdict.Message : $"Approved by {decision.Approver.DisplayName} with the arguments changed.");
                    }

                    await grants!.AnnounceCreatedAsync(grant, cancellationToken);
                    return new(
                        record.Id, true, to.ToString(),
                        $"Approved by {decision.Approver.DisplayName} for {PolicyDuration.Format(grant.ExpiresAt - grant.CreatedAt)}: "
                        + $"{record.Tool} runs for agent '{record.Agent}'{(grant.Scope == GrantRecord.ArgumentsScope ? " with these arguments" : "")} without asking until {Clock(grant.ExpiresAt)} (grant {grant.Id}).",
                        grant.Id,
                        grant.ExpiresAt);
            }
        }

        return new(decision.ApprovalId, false, "Pending", "The approval is changing right now; try again.");
    }

    public Task<bool> ExpireAsync(Guid id, CancellationToken cancellationToken) =>
        EndAsync(id, ApprovalStatus.Expired, null, cancellationToken);

    /// <summary>Withdrawn on purpose by the gateway itself (the agent's <c>tasks/cancel</c>), not by a person.</summary>
    public Task<bool> WithdrawAsync(Guid id, string reason, CancellationToken cancellationToken) =>
        EndAsync(id, ApprovalStatus.Cancelled, reason, cancellationToken);

    /// <summary>Approved → Executed | ExecutionFailed, after the upstream answered.</summary>
    public async Task RecordExecutionAsync(ApprovalRecord record, bool succeeded, string summary, double durationMs, CancellationToken cancellationToken)
    {
        // An upstream's error text can echo the arguments it was given.
        summary = redactor.RedactText(summary);
        var now = time.GetUtcNow();
        var to = succeeded ? ApprovalStatus.Executed : ApprovalStatus.ExecutionFailed;
        if (!await store.TryTransitionAsync(record.Id, ApprovalStatus.Approved, to, now, cancellationToken: cancellationToken))
        {
            return;
        }

        audit.Record(new AuditEntry(now, succeeded ? "executed" : "execution_failed", record.Agent, record.Tool, record.Rule, succeeded ? null : summary, durationMs, record.Digest, record.Id));
        LogApprovalExecuted(logger, record.Id, record.Tool, to.ToString());
        try
        {
            await events.PublishExecutedAsync(new ApprovalExecuted(record.Id, succeeded, summary, now), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, record.Id, nameof(ApprovalExecuted), e.Message);
        }
    }

    /// <summary>
    /// Expires every pending approval past its deadline (waiting calls also expire on their own
    /// timers) and lapses every approved one the agent did not collect within the redeem window.
    /// </summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var id in await store.ExpireDueAsync(now, cancellationToken))
        {
            await AfterResolvedAsync(id, ApprovalStatus.Expired, null, null, null, cancellationToken);
        }

        await EscalateDueAsync(now, cancellationToken);
        await RemindDueAsync(now, cancellationToken);

        foreach (var id in await store.LapseDueAsync(now - options.RedeemWindow, cancellationToken))
        {
            if (await store.GetApprovalAsync(id, cancellationToken) is not { } record)
            {
                continue;
            }

            Audit(record, "lapsed", record.Agent, reason: "approved, but the agent never came back for it");
            LogApprovalLapsed(logger, id, record.Tool);
            _ = PublishQuietlyAsync(id, nameof(ApprovalLapsed), () => events.PublishLapsedAsync(new ApprovalLapsed(id, now), CancellationToken.None));
        }
    }

    /// <summary>
    /// Still pending after the rule's <c>escalate.after</c>: the escalation principals become approvers
    /// of this approval (unless anyone may decide already), it is audited, and the bots tell them.
    /// </summary>
    private async Task EscalateDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var record in await store.ListEscalationsDueAsync(now, cancellationToken))
        {
            var added = (record.EscalateTo ?? []).Where(p => !record.Approvers.Contains(p, StringComparer.Ordinal)).ToList();
            // An empty list means anyone may decide: adding names would take that away.
            var approvers = record.Approvers.Count == 0 ? record.Approvers : [.. record.Approvers, .. added];
            if (!await store.TryEscalateAsync(record.Id, approvers, now, cancellationToken))
            {
                continue;
            }

            Audit(record, "escalated", record.Agent, reason: $"still pending; told {string.Join(", ", record.EscalateTo ?? [])}");
            LogApprovalEscalated(logger, record.Id, record.Tool, string.Join(", ", record.EscalateTo ?? []));
            await PublishQuietlyAsync(record.Id, nameof(ApprovalEscalated), () => events.PublishEscalatedAsync(new ApprovalEscalated(record.Id, record.EscalateTo ?? [], approvers, now), CancellationToken.None));
        }
    }

    /// <summary>One reminder per approval in the last fifth of its life, while nobody has decided.</summary>
    private async Task RemindDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var record in await store.ListRemindersDueAsync(now, cancellationToken))
        {
            if (await store.TryMarkRemindedAsync(record.Id, now, cancellationToken))
            {
                Audit(record, "reminded", record.Agent, reason: $"expires {record.ExpiresAt.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC");
                await PublishQuietlyAsync(record.Id, nameof(ApprovalReminder), () => events.PublishReminderAsync(new ApprovalReminder(record.Id, record.ExpiresAt, now), CancellationToken.None));
            }
        }
    }

    /// <summary>
    /// At start-up. Pending and approved approvals stay as they are: the agent's identical call
    /// joins or collects them. Only a call that was running upstream when the process stopped is
    /// ended, as ExecutionFailed: its outcome is unknown and it must not run twice.
    /// </summary>
    public async Task RecoverAfterRestartAsync(CancellationToken cancellationToken)
    {
        foreach (var record in await store.ListClaimedUnfinishedAsync(instance.Id, cancellationToken))
        {
            if (!held.IsWaiting(record.Id))
            {
                await RecordExecutionAsync(record, false, "the gateway stopped while the call ran upstream; its outcome is unknown", 0, cancellationToken);
            }
        }
    }

    /// <summary>Publishes what a previous attempt (or process) stored but could not publish.</summary>
    public async Task RepublishAsync(CancellationToken cancellationToken)
    {
        // Sharing the store, a replica that died may have left messages unsent: adopted once they are
        // clearly older than their owner's own retry would leave them.
        var othersBefore = store.Shared ? time.GetUtcNow() - AdoptUnsentAfter : (DateTimeOffset?)null;
        foreach (var record in await store.ListUnpublishedAsync(instance.Id, cancellationToken, othersBefore))
        {
            await PublishRequestedAsync(record, cancellationToken);
            if (record.Status != ApprovalStatus.Pending)
            {
                var collectBy = record.Status == ApprovalStatus.Approved && record.ClaimedAt is null ? CollectBy(record) : (DateTimeOffset?)null;
                await PublishResolvedAsync(record, collectBy, cancellationToken);
            }
        }
    }

    public async Task PublishRequestedAsync(ApprovalRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await events.PublishRequestedAsync(ToRequested(record), cancellationToken);
            await store.MarkRequestPublishedAsync(record.Id, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Interlocked.Increment(ref _publishFailures);
            LogPublishFailed(logger, record.Id, nameof(ApprovalRequested), e.Message);
        }
    }

    public ApprovalRequested ToRequested(ApprovalRecord record) => new(
        record.Id, record.Tool, record.Upstream, record.Agent, record.ArgumentsRedacted, record.Digest, record.Reason,
        record.Approvers, record.ApprovalsRequired, record.RequestedAt, record.ExpiresAt, events.GatewayAddress, record.Instance,
        record.GrantsOffered is { Count: > 0 } offered ? offered.Select(PolicyDuration.Format).ToArray() : null,
        record.GrantsOffered is { Count: > 0 } ? record.GrantScope : null,
        record.Editable);

    private async Task<bool> EndAsync(Guid id, ApprovalStatus to, string? comment, CancellationToken cancellationToken)
    {
        var moved = await store.TryTransitionAsync(id, ApprovalStatus.Pending, to, time.GetUtcNow(), comment: comment, cancellationToken: cancellationToken);
        if (moved)
        {
            await AfterResolvedAsync(id, to, null, comment, null, cancellationToken);
        }

        return moved;
    }

    private async Task AfterResolvedAsync(Guid id, ApprovalStatus status, Approver? by, string? comment, string? channel, CancellationToken cancellationToken)
    {
        var record = await store.GetApprovalAsync(id, cancellationToken);
        if (record is null)
        {
            return;
        }

        Audit(record, status.ToString().ToLowerInvariant(), record.Agent, comment, by?.Principal, channel);
        LogApprovalResolved(logger, id, record.Tool, status.ToString(), by?.Principal ?? "-");
        telemetry?.Resolved(status.ToString(), (record.ResolvedAt ?? time.GetUtcNow()) - record.RequestedAt);
        // Approved with nobody waiting: the agent's next identical call collects it, until the redeem window ends.
        var collectBy = status == ApprovalStatus.Approved && !held.Resolve(id, new HeldOutcome(status, by, comment))
            ? (record.ResolvedAt ?? time.GetUtcNow()) + options.RedeemWindow
            : (DateTimeOffset?)null;
        if (status != ApprovalStatus.Approved)
        {
            held.Resolve(id, new HeldOutcome(status, by, comment));
        }

        // Not awaited: a slow or dead broker must not delay the waiting calls. Failures are logged
        // and the row stays unpublished, so maintenance publishes it again.
        _ = PublishResolvedAsync(record, collectBy, CancellationToken.None);
        if (events.AnnouncesToReplicas)
        {
            // Calls for this approval may be held by another replica (the agent's identical call landed there).
            _ = PublishQuietlyAsync(id, nameof(ApprovalStateChanged), () => events.PublishStateChangedAsync(
                new ApprovalStateChanged(id, status.ToString(), instance.Id, time.GetUtcNow()), CancellationToken.None));
        }
    }

    /// <summary>
    /// Releases the calls this process holds for <paramref name="id"/> when the database says it is no longer
    /// Pending: how a replica learns of a decision another replica applied. Nothing happens when no call
    /// waits here or the approval is still pending; releasing twice changes nothing.
    /// </summary>
    public async Task SyncHeldAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!held.IsWaiting(id) || await store.GetApprovalAsync(id, cancellationToken) is not { } record || record.Status == ApprovalStatus.Pending)
        {
            return;
        }

        // Approved: each waiting call claims it (the database lets one win across replicas); anything else is the reason.
        var by = record.DecidedBy is { } principal ? ToApprover(principal, record.DecidedByName) : null;
        if (held.Resolve(id, new HeldOutcome(record.Status, by, record.Comment)))
        {
            LogHeldSynced(logger, id, record.Status.ToString());
        }
    }

    /// <summary>When an approved approval that nobody has claimed may still be collected.</summary>
    public DateTimeOffset CollectBy(ApprovalRecord record) => (record.ResolvedAt ?? time.GetUtcNow()) + options.RedeemWindow;

    private void Audit(ApprovalRecord record, string what, string agent, string? reason = null, string? actor = null, string? channel = null) =>
        audit.Record(new AuditEntry(time.GetUtcNow(), what, agent, record.Tool, record.Rule, reason, Digest: record.Digest, ApprovalId: record.Id, Actor: actor, Channel: channel));

    private async Task PublishResolvedAsync(ApprovalRecord record, DateTimeOffset? collectBy, CancellationToken cancellationToken)
    {
        // Executed/ExecutionFailed were Approved when resolved: cards show the decision, execution follows separately.
        var status = record.Status is ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed or ApprovalStatus.Lapsed ? ApprovalStatus.Approved : record.Status;
        var by = record.DecidedBy is { } principal ? ToApprover(principal, record.DecidedByName) : null;
        try
        {
            var grant = record.GrantId is { } grantId ? await store.GetGrantAsync(grantId, cancellationToken) : null;
            await events.PublishResolvedAsync(
                new ApprovalResolved(record.Id, status.ToString(), by, record.Comment, record.ResolvedAt ?? time.GetUtcNow(), collectBy, grant?.Id, grant?.ExpiresAt, record.EditedArguments), cancellationToken);
            await store.MarkResolutionPublishedAsync(record.Id, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Interlocked.Increment(ref _publishFailures);
            LogPublishFailed(logger, record.Id, nameof(ApprovalResolved), e.Message);
        }
    }

    private async Task PublishQuietlyAsync(Guid id, string message, Func<Task> publish)
    {
        try
        {
            await publish();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(logger, id, message, e.Message);
        }
    }

    private static string Clock(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A stored principal ("platform:user") and display name as an <see cref="Approver"/>; grants use it too.</summary>
    internal static Approver ToApprover(string principal, string? displayName)
    {
        var colon = principal.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? new Approver("unknown", principal, displayName ?? principal)
            : new Approver(principal[..colon], principal[(colon + 1)..], displayName ?? principal);
    }

    [LoggerMessage(EventName = "ApprovalRequested", Level = LogLevel.Information, Message = "Approval {ApprovalId} requested for {Tool} by agent {Agent}, expires {ExpiresAt}")]
    private static partial void LogApprovalRequested(ILogger logger, Guid approvalId, string tool, string agent, DateTimeOffset expiresAt);

    [LoggerMessage(EventName = "ApprovalEscalated", Level = LogLevel.Information, Message = "Approval {ApprovalId} for {Tool} still pending: escalated to {To}")]
    private static partial void LogApprovalEscalated(ILogger logger, Guid approvalId, string tool, string to);

    [LoggerMessage(EventName = "ApprovalLapsed", Level = LogLevel.Information, Message = "Approval {ApprovalId} for {Tool} lapsed: approved, but the agent never came back for it")]
    private static partial void LogApprovalLapsed(ILogger logger, Guid approvalId, string tool);

    [LoggerMessage(EventName = "DecisionJudged", Level = LogLevel.Information, Message = "Decision on approval {ApprovalId} by {Principal} via {Channel}: {Verdict}")]
    private static partial void LogDecisionJudged(ILogger logger, Guid approvalId, string principal, string channel, string verdict);

    [LoggerMessage(EventName = "HeldCallsSynced", Level = LogLevel.Information, Message = "Approval {ApprovalId} is {Status} in the shared database: calls held here are released")]
    private static partial void LogHeldSynced(ILogger logger, Guid approvalId, string status);

    [LoggerMessage(EventName = "ApprovalResolved", Level = LogLevel.Information, Message = "Approval {ApprovalId} for {Tool} is {Status} (by {Principal})")]
    private static partial void LogApprovalResolved(ILogger logger, Guid approvalId, string tool, string status, string principal);

    [LoggerMessage(EventName = "ApprovalExecuted", Level = LogLevel.Information, Message = "Approval {ApprovalId} for {Tool} ran upstream: {Status}")]
    private static partial void LogApprovalExecuted(ILogger logger, Guid approvalId, string tool, string status);

    [LoggerMessage(EventName = "ApprovalPublishFailed", Level = LogLevel.Warning, Message = "Could not publish {Message} for approval {ApprovalId} (will retry): {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, Guid approvalId, string message, string reason);
}
