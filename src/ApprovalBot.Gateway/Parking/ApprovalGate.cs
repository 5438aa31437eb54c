using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;
using ApprovalBot.Core.Redaction;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Front;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ApprovalBot.Gateway.Parking;

/// <summary>A require_approval call as the gate sees it.</summary>
public sealed record HoldRequest(
    string Agent,
    string Tool,
    string Upstream,
    IDictionary<string, JsonElement>? Arguments,
    PolicyDecision Decision,
    McpServer? Server,
    ProgressToken? ProgressToken);

/// <summary>
/// Parks require_approval calls: creates (or joins) the durable approval, tells the bots, holds
/// the call open until a decision, expiry or cancellation, and runs it upstream only from the
/// Approved state and only with arguments whose digest matches the approved one.
/// </summary>
public sealed partial class ApprovalGate(
    GatewayStore store,
    ParkedCalls parked,
    ApprovalLifecycle lifecycle,
    ArgumentDigest digests,
    SecretRedactor redactor,
    ApprovalOptions options,
    ApprovalChannelsDescription channels,
    GatewayInstance instance,
    AuditTrail audit,
    TimeProvider time,
    ILogger<ApprovalGate> logger)
{
    public const string WaitBlock = "block";
    public const string WaitRetry = "retry";

    public async ValueTask<CallToolResult> HoldAsync(HoldRequest request, Func<CancellationToken, ValueTask<CallToolResult>> execute, CancellationToken cancellationToken)
    {
        var arguments = request.Arguments is null ? null : new Dictionary<string, JsonElement>(request.Arguments);
        var digest = digests.Compute(arguments);
        var existing = await store.FindOpenAsync(request.Agent, request.Tool, digest, time.GetUtcNow() - options.RetryClaimWindow, cancellationToken);
        var retryMode = request.Decision.Wait == ApprovalWait.Retry;

        if (existing is { Status: ApprovalStatus.Approved })
        {
            // Retry mode: the identical call after approval. Exactly one caller wins the claim.
            return await store.TryClaimAsync(existing.Id, time.GetUtcNow(), cancellationToken)
                ? await ExecuteApprovedAsync(existing, request.Arguments, execute, cancellationToken)
                : await HoldAsync(request, execute, cancellationToken);
        }

        ApprovalRecord record;
        if (existing is { Status: ApprovalStatus.Pending })
        {
            record = existing;
            audit.Record(new AuditEntry(time.GetUtcNow(), "held_duplicate", request.Agent, request.Tool, request.Decision.Rule, request.Decision.Reason, Digest: digest, ApprovalId: record.Id));
            if (retryMode)
            {
                return StillPending(record);
            }
        }
        else
        {
            var pending = await store.CountPendingAsync(request.Agent, cancellationToken);
            if (pending >= options.MaxPendingPerAgent)
            {
                audit.Record(new AuditEntry(time.GetUtcNow(), "approval_cap", request.Agent, request.Tool, request.Decision.Rule, null, Digest: digest));
                return ProxyErrors.Refusal(
                    $"Refused: agent '{request.Agent}' already has {pending} approvals waiting (limit {options.MaxPendingPerAgent}). Wait for a decision before asking again.",
                    new JsonObject { ["decision"] = "approval_cap", ["pending"] = pending, ["limit"] = options.MaxPendingPerAgent });
            }

            record = await CreateAsync(request, arguments, digest, cancellationToken);
            if (retryMode)
            {
                return new CallToolResult
                {
                    IsError = true,
                    Content = [new TextContentBlock { Text = $"Approval required: {request.Tool} needs a human decision ({record.Reason ?? "guarded tool"}). Approval {record.Id} was requested in {channels.Text}; call {request.Tool} again with the same arguments after it is approved." }],
                    Meta = new JsonObject { ["approvalbot"] = Details("approval_pending", record) },
                };
            }
        }

        return await WaitAsync(request, record, execute, cancellationToken);
    }

    private async Task<ApprovalRecord> CreateAsync(HoldRequest request, Dictionary<string, JsonElement>? arguments, string digest, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var timeout = request.Decision.Timeout ?? options.DefaultTimeout;
        var record = new ApprovalRecord(
            Guid.NewGuid(), request.Tool, request.Upstream, request.Agent, redactor.RedactToJson(arguments), digest,
            request.Decision.Reason, request.Decision.Rule, request.Decision.Approvers, Math.Max(1, request.Decision.ApprovalsRequired), [],
            ApprovalStatus.Pending, request.Decision.Wait == ApprovalWait.Retry ? WaitRetry : WaitBlock, now, now + timeout,
            null, null, null, null, null, instance.Id);
        await store.InsertApprovalAsync(record, cancellationToken);
        audit.Record(new AuditEntry(now, "held", request.Agent, request.Tool, request.Decision.Rule, request.Decision.Reason, Digest: digest, ApprovalId: record.Id));
        LogApprovalRequested(logger, record.Id, record.Tool, record.Agent, record.ExpiresAt);
        // Persisted first: if the bus is down now, the republisher sends it later and the timer still runs.
        await lifecycle.PublishRequestedAsync(record, cancellationToken);
        return record;
    }

    private async ValueTask<CallToolResult> WaitAsync(
        HoldRequest request, ApprovalRecord record,
        Func<CancellationToken, ValueTask<CallToolResult>> execute, CancellationToken cancellationToken)
    {
        using var ticket = parked.Join(record.Id);
        // The decision may have landed between the read and the join.
        var current = await store.GetApprovalAsync(record.Id, cancellationToken) ?? record;
        if (current.Status != ApprovalStatus.Pending)
        {
            parked.Resolve(record.Id, new ParkedOutcome(current.Status, null, current.Comment));
        }

        using var waitCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var deadline = current.ExpiresAt - time.GetUtcNow();
        var expiry = Task.Delay(deadline > TimeSpan.Zero ? deadline : TimeSpan.Zero, time, waitCts.Token);
        var progress = request.ProgressToken is { } token && request.Server is { } server
            ? ReportProgressAsync(server, token, record, waitCts.Token)
            : Task.CompletedTask;
        ParkedOutcome outcome;
        try
        {
            var winner = await Task.WhenAny(ticket.Approval.Outcome.Task, expiry, Task.Delay(Timeout.Infinite, waitCts.Token));
            if (winner == ticket.Approval.Outcome.Task)
            {
                outcome = await ticket.Approval.Outcome.Task;
            }
            else if (cancellationToken.IsCancellationRequested)
            {
                // Checked before expiry: cancelling also cancels the expiry timer, which must not read as "expired".
                throw new OperationCanceledException(cancellationToken);
            }
            else if (winner == expiry)
            {
                // Expire from the call's own timer: this works even when the bus (or the sweeper) does not.
                await TryEndAsync(() => lifecycle.ExpireAsync(record.Id, CancellationToken.None));
                outcome = ticket.Approval.Outcome.Task.IsCompleted ? await ticket.Approval.Outcome.Task : new ParkedOutcome(ApprovalStatus.Expired, null, null);
            }
            else
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (ticket.LeaveAndCheckLast())
            {
                await TryEndAsync(() => lifecycle.CancelAsync(record.Id, "the agent cancelled the call", CancellationToken.None));
            }

            throw;
        }
        finally
        {
            await waitCts.CancelAsync();
            await progress.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        return outcome.Status switch
        {
            ApprovalStatus.Approved or ApprovalStatus.Executed or ApprovalStatus.ExecutionFailed =>
                await ticket.Approval.ExecuteOnce(async () =>
                {
                    var approved = await store.GetApprovalAsync(record.Id, CancellationToken.None) ?? record;
                    return await ExecuteApprovedAsync(approved, request.Arguments, execute, cancellationToken);
                }),
            ApprovalStatus.Denied => Denied(record, outcome),
            ApprovalStatus.Expired => Expired(record),
            _ => ProxyErrors.Refusal(
                $"Cancelled: approval {record.Id} for {record.Tool} was cancelled ({outcome.Comment ?? "no reason given"}); the call was not made.",
                Details("cancelled", record)),
        };
    }

    /// <summary>The only path to the upstream for a guarded call: Approved state and matching digest.</summary>
    private async Task<CallToolResult> ExecuteApprovedAsync(
        ApprovalRecord record, IDictionary<string, JsonElement>? arguments,
        Func<CancellationToken, ValueTask<CallToolResult>> execute, CancellationToken cancellationToken)
    {
        if (record.Status != ApprovalStatus.Approved)
        {
            return ProxyErrors.Refusal($"Approval {record.Id} is {record.Status}; the call was not made.", Details("not_approved", record));
        }

        // The digest is checked over the very object the upstream call will send.
        if (!digests.Matches(arguments, record.Digest))
        {
            await lifecycle.RecordExecutionAsync(record, false, "arguments differ from the approved ones", 0, CancellationToken.None);
            return ProxyErrors.Refusal($"Refused: the arguments differ from those approved in {record.Id}; the call was not made.", Details("digest_mismatch", record));
        }

        var started = time.GetTimestamp();
        try
        {
            // Once approved, the call runs to the end even if the agent goes away, so the outcome is recorded.
            var result = await execute(CancellationToken.None);
            var ok = result.IsError != true;
            await lifecycle.RecordExecutionAsync(record, ok, ok ? "succeeded" : Summarize(result), time.GetElapsedTime(started).TotalMilliseconds, CancellationToken.None);
            return result;
        }
        catch (Exception e) when (e is McpException or IOException or InvalidOperationException)
        {
            await lifecycle.RecordExecutionAsync(record, false, e.Message, time.GetElapsedTime(started).TotalMilliseconds, CancellationToken.None);
            throw;
        }
    }

    private async Task ReportProgressAsync(McpServer server, ProgressToken token, ApprovalRecord record, CancellationToken cancellationToken)
    {
        var interval = options.ProgressInterval > TimeSpan.Zero ? options.ProgressInterval : TimeSpan.FromSeconds(10);
        using var timer = new PeriodicTimer(interval, time);
        var step = 0;
        do
        {
            step++;
            try
            {
                await server.NotifyProgressAsync(
                    token,
                    new ProgressNotificationValue { Progress = step, Message = $"waiting for approval {record.Id} in {channels.Text}" },
                    cancellationToken: cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogProgressFailed(logger, record.Id, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken));
    }

    private async Task TryEndAsync(Func<Task<bool>> end)
    {
        try
        {
            await end();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database being unavailable must not keep the agent waiting: the outcome stands, the sweeper catches up.
            LogEndFailed(logger, e.Message);
        }
    }

    private CallToolResult StillPending(ApprovalRecord record) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = $"Still pending: approval {record.Id} for {record.Tool} has no decision yet (expires {record.ExpiresAt.ToString("u", CultureInfo.InvariantCulture)}). Call again later with the same arguments." }],
        Meta = new JsonObject { ["approvalbot"] = Details("approval_pending", record) },
    };

    private static CallToolResult Denied(ApprovalRecord record, ParkedOutcome outcome)
    {
        var who = outcome.By?.DisplayName ?? "an approver";
        var why = string.IsNullOrWhiteSpace(outcome.Comment) ? "no reason given" : outcome.Comment;
        var result = ProxyErrors.Refusal($"Denied: {who} denied {record.Tool} ({why}). The call was not made.", Details("denied", record));
        result.Meta!["approvalbot"]!["deniedBy"] = outcome.By?.Principal;
        result.Meta!["approvalbot"]!["comment"] = outcome.Comment;
        return result;
    }

    private static CallToolResult Expired(ApprovalRecord record) =>
        ProxyErrors.Refusal(
            $"Expired: nobody decided on approval {record.Id} for {record.Tool} before {record.ExpiresAt.ToString("u", CultureInfo.InvariantCulture)}. It was not denied; the call was not made. Ask again if it is still needed.",
            Details("expired", record));

    /// <summary>What goes under <c>_meta.approvalbot</c>.</summary>
    private static JsonObject Details(string decision, ApprovalRecord record) => new()
    {
        ["decision"] = decision,
        ["approvalId"] = record.Id.ToString(),
        ["rule"] = record.Rule,
        ["reason"] = record.Reason,
        ["expiresAt"] = record.ExpiresAt.ToString("O", CultureInfo.InvariantCulture),
    };

    private static string Summarize(CallToolResult result)
    {
        var text = result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text ?? "upstream returned an error";
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    [LoggerMessage(EventName = "ApprovalRequested", Level = LogLevel.Information, Message = "Approval {ApprovalId} requested for {Tool} by agent {Agent}, expires {ExpiresAt}")]
    private static partial void LogApprovalRequested(ILogger logger, Guid approvalId, string tool, string agent, DateTimeOffset expiresAt);

    [LoggerMessage(EventName = "ApprovalEndFailed", Level = LogLevel.Warning, Message = "Could not record the end of a waiting approval (the sweeper will): {Reason}")]
    private static partial void LogEndFailed(ILogger logger, string reason);

    [LoggerMessage(EventName = "ApprovalProgressFailed", Level = LogLevel.Debug, Message = "Progress for approval {ApprovalId} not delivered: {Reason}")]
    private static partial void LogProgressFailed(ILogger logger, Guid approvalId, string reason);
}

/// <summary>Where people are asked, for the agent's messages ("in Slack and the approval console").</summary>
public sealed record ApprovalChannelsDescription(string Text);
