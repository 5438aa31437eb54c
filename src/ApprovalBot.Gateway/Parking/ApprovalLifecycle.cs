using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Telemetry;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Parking;

/// <summary>
/// Every move of an approval's state goes through here: one conditional UPDATE, then an audit
/// row, then the waiting calls, then the bus. Persist first, publish after; what could not be
/// published is published again later (<see cref="RepublishAsync"/>).
/// </summary>
public sealed partial class ApprovalLifecycle(
    GatewayStore store,
    ParkedCalls parked,
    IApprovalEvents events,
    AuditTrail audit,
    GatewayInstance instance,
    TimeProvider time,
    ILogger<ApprovalLifecycle> logger,
    GatewayTelemetry? telemetry = null)
{
    private long _publishFailures;

    /// <summary>How many Requested/Resolved publishes failed (and are waiting for <see cref="RepublishAsync"/>).</summary>
    public long PublishFailures => Interlocked.Read(ref _publishFailures);

    public async Task<ApprovalDecisionOutcome> DecideAsync(ApprovalDecision decision, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!await store.TryRememberDecisionAsync(decision.DecisionId, decision.ApprovalId, now, cancellationToken))
        {
            // A redelivered message: answer with the current state, change nothing.
            var current = await store.GetApprovalAsync(decision.ApprovalId, cancellationToken);
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
            switch (verdict.Kind)
            {
                case VerdictKind.NotAnApprover:
                    audit.Record(new AuditEntry(now, "decision_refused", record.Agent, record.Tool, record.Rule, "not an approver", Digest: record.Digest, ApprovalId: record.Id, Actor: decision.Approver.Principal, Channel: decision.Channel));
                    return new(record.Id, false, record.Status.ToString(), verdict.Message);
                case VerdictKind.AlreadyDecided:
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
                    var to = verdict.Kind == VerdictKind.Approved ? ApprovalStatus.Approved : ApprovalStatus.Denied;
                    var moved = await store.TryTransitionAsync(
                        record.Id, ApprovalStatus.Pending, to, now,
                        decision.Approver.Principal, decision.Approver.DisplayName, decision.Channel, decision.Comment,
                        addApprover: to == ApprovalStatus.Approved ? decision.Approver.Principal : null,
                        cancellationToken: cancellationToken);
                    if (!moved)
                    {
                        continue;
                    }

                    await AfterResolvedAsync(record.Id, to, decision.Approver, decision.Comment, decision.Channel, cancellationToken);
                    return new(record.Id, true, to.ToString(), verdict.Message);
            }
        }

        return new(decision.ApprovalId, false, "Pending", "The approval is changing right now; try again.");
    }

    public Task<bool> ExpireAsync(Guid id, CancellationToken cancellationToken) =>
        EndAsync(id, ApprovalStatus.Expired, null, cancellationToken);

    public Task<bool> CancelAsync(Guid id, string reason, CancellationToken cancellationToken) =>
        EndAsync(id, ApprovalStatus.Cancelled, reason, cancellationToken);

    /// <summary>Approved → Executed | ExecutionFailed, after the upstream answered.</summary>
    public async Task RecordExecutionAsync(ApprovalRecord record, bool succeeded, string summary, double durationMs, CancellationToken cancellationToken)
    {
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

    /// <summary>Expires every pending approval past its deadline (waiting calls also expire on their own timers).</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.ExpireDueAsync(time.GetUtcNow(), cancellationToken))
        {
            await AfterResolvedAsync(id, ApprovalStatus.Expired, null, null, null, cancellationToken);
        }
    }

    /// <summary>
    /// At start-up: calls held by the previous process are gone, so their approvals end as
    /// Cancelled ("gateway restarted"); retry-mode approvals stay pending (the agent calls again).
    /// </summary>
    public async Task RecoverAfterRestartAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await store.ListPendingOfInstanceAsync(instance.Id, ApprovalGate.WaitBlock, cancellationToken))
        {
            if (!parked.Ids.Contains(id))
            {
                await CancelAsync(id, "gateway restarted", cancellationToken);
            }
        }
    }

    /// <summary>Publishes what a previous attempt (or process) stored but could not publish.</summary>
    public async Task RepublishAsync(CancellationToken cancellationToken)
    {
        foreach (var record in await store.ListUnpublishedAsync(instance.Id, cancellationToken))
        {
            await PublishRequestedAsync(record, cancellationToken);
            if (record.Status != ApprovalStatus.Pending)
            {
                await PublishResolvedAsync(record, cancellationToken);
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
        record.Approvers, record.ApprovalsRequired, record.RequestedAt, record.ExpiresAt, events.GatewayAddress, record.Instance);

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

        audit.Record(new AuditEntry(
            time.GetUtcNow(), status.ToString().ToLowerInvariant(), record.Agent, record.Tool, record.Rule, comment,
            Digest: record.Digest, ApprovalId: id, Actor: by?.Principal, Channel: channel));
        LogApprovalResolved(logger, id, record.Tool, status.ToString(), by?.Principal ?? "-");
        telemetry?.Resolved(status.ToString(), (record.ResolvedAt ?? time.GetUtcNow()) - record.RequestedAt);
        parked.Resolve(id, new ParkedOutcome(status, by, comment));
        // Not awaited: a slow or dead broker must not delay the waiting calls. Failures are logged
        // and the row stays unpublished, so maintenance publishes it again.
        _ = PublishResolvedAsync(record, CancellationToken.None);
    }

    private async Task PublishResolvedAsync(ApprovalRecord record, CancellationToken cancellationToken)
    {
        // Executed/ExecutionFailed were Approved when resolved: cards show the decision, execution follows separately.
        var status = record.Status is ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed ? ApprovalStatus.Approved : record.Status;
        var by = record.DecidedBy is { } principal ? ToApprover(principal, record.DecidedByName) : null;
        try
        {
            await events.PublishResolvedAsync(
                new ApprovalResolved(record.Id, status.ToString(), by, record.Comment, record.ResolvedAt ?? time.GetUtcNow()), cancellationToken);
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

    private static Approver ToApprover(string principal, string? displayName)
    {
        var colon = principal.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? new Approver("unknown", principal, displayName ?? principal)
            : new Approver(principal[..colon], principal[(colon + 1)..], displayName ?? principal);
    }

    [LoggerMessage(EventName = "DecisionJudged", Level = LogLevel.Information, Message = "Decision on approval {ApprovalId} by {Principal} via {Channel}: {Verdict}")]
    private static partial void LogDecisionJudged(ILogger logger, Guid approvalId, string principal, string channel, string verdict);

    [LoggerMessage(EventName = "ApprovalResolved", Level = LogLevel.Information, Message = "Approval {ApprovalId} for {Tool} is {Status} (by {Principal})")]
    private static partial void LogApprovalResolved(ILogger logger, Guid approvalId, string tool, string status, string principal);

    [LoggerMessage(EventName = "ApprovalExecuted", Level = LogLevel.Information, Message = "Approval {ApprovalId} for {Tool} ran upstream: {Status}")]
    private static partial void LogApprovalExecuted(ILogger logger, Guid approvalId, string tool, string status);

    [LoggerMessage(EventName = "ApprovalPublishFailed", Level = LogLevel.Warning, Message = "Could not publish {Message} for approval {ApprovalId} (will retry): {Reason}")]
    private static partial void LogPublishFailed(ILogger logger, Guid approvalId, string message, string reason);
}

/// <summary>This gateway process's stable name on the bus.</summary>
public sealed record GatewayInstance(string Id);
