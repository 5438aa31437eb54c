using System.Text.Json;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;
using ApprovalBot.Core.Redaction;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Grants;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using ApprovalBot.Gateway.Replies;

namespace ApprovalBot.Gateway.Parking;

/// <summary>Forwards the guarded call upstream with <paramref name="arguments"/> (the agent's own, or an approver's edit merged with them).</summary>
public delegate ValueTask<CallToolResult> UpstreamCall(IDictionary<string, JsonElement>? arguments, CancellationToken cancellationToken);

/// <summary>A require_approval call as the gate sees it.</summary>
/// <param name="AsTask">An MCP task runs it: wait until the approval ends, never hand back.</param>
/// <param name="Admit">Asked only before a new approval is opened (the rule's rate limit): a refusal, or null to go on.</param>
/// <param name="RequestAborted">The agent's HTTP request: when it goes away the call stops waiting, as when the call is cancelled.</param>
public sealed record GuardedCall(
    string Agent,
    string Tool,
    string Upstream,
    IDictionary<string, JsonElement>? Arguments,
    PolicyDecision Decision,
    McpServer? Server,
    ProgressToken? ProgressToken,
    bool AsTask = false,
    Func<CallToolResult?>? Admit = null,
    HeldProgress? Progress = null,
    CancellationToken RequestAborted = default);

/// <summary>
/// How far the gate's own "waiting for approval" progress went on the agent's token, so the
/// upstream's progress on the same token continues from there (progress must only increase).
/// </summary>
public sealed class HeldProgress
{
    private long _sent;

    public long Sent => Interlocked.Read(ref _sent);

    internal void Record(long step) => Interlocked.Exchange(ref _sent, step);
}

/// <summary>
/// The gate every require_approval call passes. It holds the call: opens the durable approval, or
/// joins the pending one of the agent's identical call (same agent, tool, argument digest); waits
/// up to the hold time for a decision; hands the call back as pending before the client gives up;
/// and lets the agent's identical call collect the outcome later. An approved call runs exactly
/// once (atomic claim), only from the Approved state, only with arguments of the approved digest,
/// and only while a call of the agent is in flight. A call that an active time-boxed grant covers
/// runs without a card — unless an approved identical call is waiting to be collected, which it collects.
/// </summary>
public sealed partial class ApprovalGate(
    GatewayStore store,
    HeldCalls held,
    ApprovalLifecycle lifecycle,
    ArgumentDigest digests,
    ApprovalOptions options,
    ApprovalChannelsDescription channels,
    TimeProvider time,
    ILogger<ApprovalGate> logger,
    GrantLifecycle? grants = null,
    SecretRedactor? redactor = null)
{
    /// <param name="attached">Told which approval the call joined or opened (MCP tasks record it).</param>
    public async ValueTask<CallToolResult> HoldAsync(
        GuardedCall call, UpstreamCall execute, CancellationToken cancellationToken,
        Func<ApprovalRecord, Task>? attached = null)
    {
        using var aborted = call.RequestAborted.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.RequestAborted) : null;
        if (aborted is not null)
        {
            cancellationToken = aborted.Token;
        }

        // Decided first, then waited for in this same frame: the wait (minutes, for thousands of calls)
        // keeps only the approval's id, not the records and digest the decision read.
        var (done, approvalId, announce) = await DecideAsync(call, execute, cancellationToken, attached);
        if (done is not null)
        {
            return done;
        }

        var ticket = held.Join(approvalId);
        if (announce && ticket.IsFirst)
        {
            lifecycle.AnnounceWaiting(approvalId, true);
        }

        var stillPending = false;
        try
        {
            var (wait, expiresFirst) = await PlanWaitAsync(call, approvalId, cancellationToken);
            var progress = call.ProgressToken is { } token && call.Server is { } server
                ? new WaitingProgress(server, token, approvalId, call.Progress, channels.Text, logger, cancellationToken, ProgressInterval, time)
                : null;
            HeldOutcome outcome;
            try
            {
                // One timer and one registration for the hold; no exception for a timeout or a cancellation.
                Task waiting = ticket.Approval.Outcome.Task.WaitAsync(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, time, cancellationToken);
                await waiting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (waiting.IsCompletedSuccessfully)
                {
                    outcome = await ticket.Approval.Outcome.Task;
                }
                else if (cancellationToken.IsCancellationRequested && call.AsTask)
                {
                    // Only tasks/cancel cancels a task's call, and it withdraws the approval — also one
                    // opened (or joined) while the cancel was on its way, before the task recorded it.
                    await TryEndAsync(lifecycle.WithdrawAsync(approvalId, "withdrawn by the agent (tasks/cancel)", CancellationToken.None));
                    throw new OperationCanceledException(cancellationToken);
                }
                else if (cancellationToken.IsCancellationRequested)
                {
                    // The client gave up (timeout, disconnect, notifications/cancelled): this call only
                    // detaches. The approval stays pending for the agent's identical call.
                    stillPending = true;
                    var current = await ReadAsync(approvalId);
                    LogDetached(logger, approvalId, current.Tool);
                    return AgentReplies.Pending(current, channels.Text, time.GetUtcNow());
                }
                else if (expiresFirst)
                {
                    // Expire from the call's own timer: this works even when the sweeper does not.
                    await TryEndAsync(lifecycle.ExpireAsync(approvalId, CancellationToken.None));
                    outcome = ticket.Approval.Outcome.Task.IsCompleted ? await ticket.Approval.Outcome.Task : new HeldOutcome(ApprovalStatus.Expired, null, null);
                }
                else
                {
                    stillPending = true;
                    var current = await ReadAsync(approvalId);
                    lifecycle.RecordRedeem(current, "handed_back");
                    return AgentReplies.Pending(current, channels.Text, time.GetUtcNow());
                }
            }
            finally
            {
                await (progress?.StopAsync() ?? ValueTask.CompletedTask);
            }

            if (outcome.Status is not (ApprovalStatus.Approved or ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed))
            {
                return AgentReplies.ForOutcome(await ReadAsync(approvalId), outcome.Status, outcome.By, outcome.Comment);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                // Approved, but the agent has gone: nothing runs now; its identical call collects it.
                return AgentReplies.NotApproved(await ReadAsync(approvalId));
            }

            return await ExecuteOnceAsync(ticket, call, execute);
        }
        finally
        {
            if (ticket.Leave() && stillPending)
            {
                lifecycle.AnnounceWaiting(approvalId, false);
            }
        }
    }

    /// <summary>The call's answer when it needs no wait; else the approval it waits for (announce: it joined a pending one).</summary>
    private async ValueTask<(CallToolResult? Done, Guid ApprovalId, bool Announce)> DecideAsync(
        GuardedCall call, UpstreamCall execute, CancellationToken cancellationToken, Func<ApprovalRecord, Task>? attached)
    {
        var digest = digests.Compute(call.Arguments);
        var now = time.GetUtcNow();
        var latest = await store.FindLatestAsync(call.Agent, call.Tool, digest, cancellationToken);
        if (latest is { Status: ApprovalStatus.Approved } && (latest.ClaimedAt is not null || lifecycle.CollectBy(latest) > now))
        {
            // First, so the call that an approval "for a while" was given for is the one that collects it.
            lifecycle.RecordRedeem(latest, "redeemed");
            await (attached?.Invoke(latest) ?? Task.CompletedTask);
            return (await CollectAsync(call, latest, execute, cancellationToken), default, false);
        }

        if (grants is not null && await grants.FindUsableAsync(call.Agent, call.Tool, call.Decision, digest, cancellationToken) is { } grant)
        {
            return (await grants.RunAsync(grant, call, digest, execute, cancellationToken), default, false);
        }

        switch (latest)
        {
            case { Status: ApprovalStatus.Pending }:
                lifecycle.RecordRedeem(latest, "held_duplicate");
                await (attached?.Invoke(latest) ?? Task.CompletedTask);
                return (null, latest.Id, true);
            case { Status: ApprovalStatus.Denied or ApprovalStatus.Expired or ApprovalStatus.Cancelled, ResolvedAt: { } resolved }
                when resolved + options.OutcomeRetention > now:
                // The agent asks again for what was refused: the same answer, not a new card.
                lifecycle.RecordRedeem(latest, "outcome_repeated");
                await (attached?.Invoke(latest) ?? Task.CompletedTask);
                return (AgentReplies.ForOutcome(latest, latest.Status, null, latest.Comment), default, false);
        }

        if (call.Admit?.Invoke() is { } refused)
        {
            return (refused, default, false);
        }

        var pending = await store.CountPendingAsync(call.Agent, cancellationToken);
        if (pending >= options.MaxPendingPerAgent)
        {
            lifecycle.RecordRefused(call, digest, "approval_cap");
            return (AgentReplies.Flooded(call.Agent, pending, options.MaxPendingPerAgent), default, false);
        }

        var record = await lifecycle.OpenAsync(call, digest, cancellationToken);
        await (attached?.Invoke(record) ?? Task.CompletedTask);
        return (null, record.Id, false);
    }

    /// <summary>How long this call waits, and whether the approval expires before the hold ends; a decision that landed between the read and the join is delivered now.</summary>
    private async ValueTask<(TimeSpan Wait, bool ExpiresFirst)> PlanWaitAsync(GuardedCall call, Guid approvalId, CancellationToken cancellationToken)
    {
        var current = await ReadAsync(approvalId, cancellationToken);
        if (current.Status != ApprovalStatus.Pending)
        {
            held.Resolve(approvalId, new HeldOutcome(current.Status, null, current.Comment));
        }

        var untilExpiry = current.ExpiresAt - time.GetUtcNow();
        var hold = call.Decision.Wait == ApprovalWait.Retry ? TimeSpan.Zero : call.Decision.Hold ?? options.HoldFor;
        var expiresFirst = call.AsTask || untilExpiry <= hold;
        return (expiresFirst ? untilExpiry : hold, expiresFirst);
    }

    private TimeSpan ProgressInterval => options.ProgressInterval > TimeSpan.Zero ? options.ProgressInterval : TimeSpan.FromSeconds(10);

    /// <summary>The approval as stored now; one that is gone is a bug, not an answer for the agent.</summary>
    private async Task<ApprovalRecord> ReadAsync(Guid approvalId, CancellationToken cancellationToken = default) =>
        await store.GetApprovalAsync(approvalId, cancellationToken) ?? throw new InvalidOperationException($"Approval {approvalId} vanished.");

    /// <summary>The agent came back for an approved call: it runs now, once, for every identical call in flight here.</summary>
    private async ValueTask<CallToolResult> CollectAsync(
        GuardedCall call, ApprovalRecord record, UpstreamCall execute, CancellationToken cancellationToken)
    {
        using var ticket = held.Join(record.Id);
        cancellationToken.ThrowIfCancellationRequested();
        return await ExecuteOnceAsync(ticket, call, execute);
    }

    /// <summary>A lambda only here: the frame of a waiting call captures nothing for it.</summary>
    private Task<CallToolResult> ExecuteOnceAsync(HeldTicket ticket, GuardedCall call, UpstreamCall execute) =>
        ticket.Approval.ExecuteOnce(() => ClaimAndExecuteAsync(ticket.Approval.Id, call.Arguments, execute));

    /// <summary>The only path to the upstream for a guarded call: Approved state, the claim won, and a matching digest.</summary>
    private async Task<CallToolResult> ClaimAndExecuteAsync(
        Guid id, IDictionary<string, JsonElement>? arguments, UpstreamCall execute)
    {
        var record = await ReadAsync(id);
        if (record.Status != ApprovalStatus.Approved)
        {
            return record.Status is ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed ? AgentReplies.AlreadyCollected(record) : AgentReplies.NotApproved(record);
        }

        // The digest is checked over the agent's very arguments: an edit only ever keeps their hidden values.
        if (!digests.Matches(arguments, record.Digest))
        {
            return AgentReplies.DigestMismatch(record);
        }

        var send = arguments;
        if (record.EditedArguments is { } edit)
        {
            // Rebuilt from the bound edit and the agent's call; both must still be exactly what was approved.
            var merged = ArgumentEdit.Apply(edit, record.ArgumentsRedacted, arguments as IReadOnlyDictionary<string, JsonElement> ?? arguments?.ToDictionary(), redactor ?? new SecretRedactor());
            var editArguments = merged.Succeeded ? JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(merged.Edit) : null;
            if (merged.Arguments is null || record.EditedDigest is not { } editDigest || !digests.Matches(editArguments, editDigest))
            {
                return AgentReplies.DigestMismatch(record);
            }

            send = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(merged.Arguments.ToJsonString());
        }

        if (!await lifecycle.TryClaimAsync(record, CancellationToken.None))
        {
            return AgentReplies.AlreadyCollected(record);
        }

        var started = time.GetTimestamp();
        try
        {
            // Once claimed, the call runs to the end even if the agent goes away, so the outcome is
            // recorded; the upstream's call timeout bounds it.
            var result = await execute(send, CancellationToken.None);
            var ok = result.IsError != true;
            await lifecycle.RecordExecutionAsync(record, ok, ok ? "succeeded" : Summarize(result), time.GetElapsedTime(started).TotalMilliseconds, CancellationToken.None);
            return record.GrantId is { } grantId && await store.GetGrantAsync(grantId, CancellationToken.None) is { } grant
                ? AgentReplies.ApprovedWithGrant(result, record, grant)
                : record.EditedArguments is not null ? AgentReplies.ApprovedWithEdit(result, record)
                : result;
        }
        catch (Exception e) when (e is McpException or IOException or InvalidOperationException or OperationCanceledException)
        {
            await lifecycle.RecordExecutionAsync(record, false, e.Message, time.GetElapsedTime(started).TotalMilliseconds, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// The gate's "waiting for approval" progress on the agent's token: one at once, then one every
    /// interval, from a timer (no loop kept per waiting call). A tick while the last one is still being
    /// sent is skipped, so the agent sees the steps in order.
    /// </summary>
    private sealed class WaitingProgress
    {
        private readonly McpServer _server;
        private readonly ProgressToken _token;
        private readonly Guid _approvalId;
        private readonly HeldProgress? _sent;
        private readonly string _channels;
        private readonly ILogger _logger;
        private readonly CancellationToken _cancellationToken;
        private readonly ITimer _timer;
        private Task _sending = Task.CompletedTask;
        private int _busy;
        private long _step;

        public WaitingProgress(
            McpServer server, ProgressToken token, Guid approvalId, HeldProgress? sent, string channels, ILogger logger,
            CancellationToken cancellationToken, TimeSpan interval, TimeProvider time)
        {
            (_server, _token, _approvalId, _sent, _channels, _logger, _cancellationToken) = (server, token, approvalId, sent, channels, logger, cancellationToken);
            _timer = time.CreateTimer(static state => ((WaitingProgress)state!).Tick(), this, TimeSpan.Zero, interval);
        }

        /// <summary>No tick after this returns, and the last one sent (or given up): nothing follows the call's answer.</summary>
        public async ValueTask StopAsync()
        {
            await _timer.DisposeAsync();
            await Volatile.Read(ref _sending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private void Tick()
        {
            if (_cancellationToken.IsCancellationRequested || Interlocked.Exchange(ref _busy, 1) == 1)
            {
                return;
            }

            Volatile.Write(ref _sending, SendAsync(++_step));
        }

        private async Task SendAsync(long step)
        {
            try
            {
                // Counted before it is sent: a notification the agent may have seen is never undercounted.
                _sent?.Record(step);
                await _server.NotifyProgressAsync(
                    _token,
                    new ProgressNotificationValue { Progress = step, Message = $"waiting for approval {_approvalId} in {_channels}" },
                    cancellationToken: _cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogProgressFailed(_logger, _approvalId, e.Message);
            }
            finally
            {
                Volatile.Write(ref _busy, 0);
            }
        }
    }

    private async Task TryEndAsync(Task<bool> end)
    {
        try
        {
            await end;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database being unavailable must not keep the agent waiting: the outcome stands, the sweeper catches up.
            LogEndFailed(logger, e.Message);
        }
    }

    private static string Summarize(CallToolResult result)
    {
        var text = result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text ?? "upstream returned an error";
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    [LoggerMessage(EventName = "ApprovalEndFailed", Level = LogLevel.Warning, Message = "Could not record the end of a waiting approval (the sweeper will): {Reason}")]
    private static partial void LogEndFailed(ILogger logger, string reason);

    [LoggerMessage(EventName = "ApprovalProgressFailed", Level = LogLevel.Debug, Message = "Progress for approval {ApprovalId} not delivered: {Reason}")]
    private static partial void LogProgressFailed(ILogger logger, Guid approvalId, string reason);

    [LoggerMessage(EventName = "ApprovalCallDetached", Level = LogLevel.Information, Message = "The agent stopped waiting for approval {ApprovalId} ({Tool}); it stays pending for the identical call")]
    private static partial void LogDetached(ILogger logger, Guid approvalId, string tool);
}

/// <summary>Where people are asked, for the agent's messages ("in Slack and the approval console").</summary>
public sealed record ApprovalChannelsDescription(string Text);
