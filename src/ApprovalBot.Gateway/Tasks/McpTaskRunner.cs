using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Tasks;

/// <summary>
/// Runs task-augmented tool calls in the background and keeps their state in the gateway
/// database: the client polls <c>tasks/get</c> and collects <c>tasks/result</c> instead of holding
/// a request open while people decide. At start-up, tasks whose runner died with the previous
/// process end with a result that tells the agent to call again (the approval itself stays open);
/// tasks past their TTL are forgotten.
/// </summary>
public sealed partial class McpTaskRunner(
    GatewayStore store,
    ApprovalLifecycle lifecycle,
    GatewayInstance instance,
    ApprovalOptions options,
    GatewayOptions gateway,
    ApprovalChannelsDescription channels,
    TimeProvider time,
    ILogger<McpTaskRunner> logger) : BackgroundService
{
    /// <summary>Shortest TTL of a task: long enough for its outcome to be collected after the approval ends.</summary>
    public static readonly TimeSpan MinimumTtl = TimeSpan.FromHours(1);

    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Running> _running = new();

    private sealed record Running(CancellationTokenSource Cancel, TaskCompletionSource Done);

    /// <summary>Stores the new task and starts the call; returns at once.</summary>
    public async Task<TaskRecord> StartAsync(string agent, string tool, TimeSpan? requestedTtl, Func<McpTaskRun, CancellationToken, ValueTask<CallToolResult>> run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var ttl = requestedTtl is { } asked && asked > MinimumTtl ? asked : MinimumTtl;
        var task = new TaskRecord(Guid.NewGuid().ToString("N"), agent, tool, null, TaskRecord.Working, "submitted", null, now, now, ttl, instance.Id);
        await store.InsertTaskAsync(task, cancellationToken);
        var running = new Running(new CancellationTokenSource(), new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _running[task.Id] = running;
        _ = Task.Run(() => RunAsync(task, new McpTaskRun(task.Id, task.CreatedAt, this), run, running), CancellationToken.None);
        return task;
    }

    /// <summary>The approval a running task waits for: the status message says where people are asked; the TTL outlives it.</summary>
    internal Task AttachAsync(string taskId, DateTimeOffset createdAt, ApprovalRecord approval) =>
        store.SetTaskApprovalAsync(
            taskId, approval.Id, $"waiting for approval {approval.Id} in {channels.Text} (open until {approval.ExpiresAt.ToUniversalTime().ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture)})",
            approval.ExpiresAt - createdAt + options.RedeemWindow, time.GetUtcNow(), CancellationToken.None);

    /// <summary>Waits until the task ends or a poll interval passes (the task may be run by another process).</summary>
    public async Task WaitAsync(string taskId, CancellationToken cancellationToken)
    {
        var poll = Task.Delay(PollInterval, time, cancellationToken);
        await (_running.TryGetValue(taskId, out var running) ? Task.WhenAny(running.Done.Task, poll) : poll);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary><c>tasks/cancel</c>: ends the task as cancelled and withdraws the approval it waits for.</summary>
    public async Task<TaskRecord?> CancelAsync(TaskRecord task, CancellationToken cancellationToken)
    {
        if (!await store.TryFinishTaskAsync(task.Id, TaskRecord.Cancelled, "cancelled by the agent", null, time.GetUtcNow(), cancellationToken))
        {
            return null;
        }

        if (task.ApprovalId is { } approval)
        {
            await lifecycle.WithdrawAsync(approval, "withdrawn by the agent (tasks/cancel)", cancellationToken);
        }

        if (_running.TryGetValue(task.Id, out var running))
        {
            await running.Cancel.CancelAsync();
        }

        return await store.GetTaskAsync(task.Id, task.Agent, cancellationToken);
    }

    private async Task RunAsync(TaskRecord task, McpTaskRun run, Func<McpTaskRun, CancellationToken, ValueTask<CallToolResult>> call, Running running)
    {
        try
        {
            var result = await call(run, running.Cancel.Token);
            var json = JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult)));
            var message = result.IsError == true ? result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text : "completed";
            // A tool result with isError is still a completed task: "failed" is for protocol errors.
            await store.TryFinishTaskAsync(task.Id, TaskRecord.Completed, Shorten(message), json, time.GetUtcNow(), CancellationToken.None);
        }
        catch (OperationCanceledException) when (running.Cancel.IsCancellationRequested)
        {
            // tasks/cancel already recorded the end.
        }
        catch (Exception e)
        {
            var code = e is McpProtocolException protocol ? (int)protocol.ErrorCode : (int)McpErrorCode.InternalError;
            var error = new JsonObject { ["code"] = code, ["message"] = e.Message }.ToJsonString();
            LogTaskFailed(logger, task.Id, task.Tool, e.Message);
            await TryAsync(() => store.TryFinishTaskAsync(task.Id, TaskRecord.Failed, Shorten(e.Message), error, time.GetUtcNow(), CancellationToken.None));
        }
        finally
        {
            running.Done.TrySetResult();
            _running.TryRemove(task.Id, out _);
            running.Cancel.Dispose();
        }
    }

    /// <summary>How often, sharing the store, this gateway renews its running tasks and looks for others' abandoned ones: its heartbeat.</summary>
    private TimeSpan LeaseInterval => gateway.HeartbeatEvery;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await TryAsync(() => RecoverAsync(stoppingToken));
        var leases = store.Shared ? KeepLeasesAsync(stoppingToken) : Task.CompletedTask;
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TryAsync(() => store.DeleteExpiredTasksAsync(time.GetUtcNow(), stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await leases;
    }

    private async Task<bool> RecoverAsync(CancellationToken cancellationToken)
    {
        foreach (var task in await store.ListWorkingTasksAsync(instance.Id, cancellationToken))
        {
            if (_running.ContainsKey(task.Id))
            {
                continue;
            }

            await InterruptAsync(task, $"The gateway restarted while this task waited{For(task)}; nothing ran.", "interrupted by a gateway restart", cancellationToken);
        }

        return true;
    }

    /// <summary>
    /// Sharing the store: renews this gateway's running tasks every <see cref="LeaseInterval"/>, and ends
    /// other gateways' tasks not renewed for four of them (that gateway died: its agent polling
    /// <c>tasks/get</c> here hears so instead of "working" for ever).
    /// </summary>
    private async Task KeepLeasesAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(LeaseInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TryAsync(async () =>
                {
                    var now = time.GetUtcNow();
                    await store.TouchWorkingTasksAsync(instance.Id, now, stoppingToken);
                    foreach (var task in await store.ListAbandonedTasksAsync(instance.Id, now - (LeaseInterval * 4), stoppingToken))
                    {
                        // Not "nothing ran": a gateway cut off from the database may still have run the call.
                        await InterruptAsync(task, $"The gateway running this task ({task.Instance}) stopped while it waited{For(task)}.", "interrupted: its gateway stopped", stoppingToken);
                    }

                    return true;
                });
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static string For(TaskRecord task) => task.ApprovalId is { } id ? $" for approval {id}" : "";

    /// <summary>
    /// Ends a task whose runner is gone. The call's arguments were never stored (they may hold secrets),
    /// so the task cannot go on by itself; the approval does, and the agent's identical call joins or collects it.
    /// </summary>
    private async Task InterruptAsync(TaskRecord task, string what, string statusMessage, CancellationToken cancellationToken)
    {
        var text = what + $" Call {task.Tool} again with exactly the same arguments: the call joins the open approval, or collects it once approved.";
        var result = new CallToolResult
        {
            IsError = true,
            Content = [new TextContentBlock { Text = text }],
            Meta = new JsonObject { ["approvalbot"] = new JsonObject { ["decision"] = "task_interrupted", ["approvalId"] = task.ApprovalId?.ToString() } },
        };
        var json = JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult)));
        if (await store.TryFinishTaskAsync(task.Id, TaskRecord.Completed, statusMessage, json, time.GetUtcNow(), cancellationToken))
        {
            LogTaskInterrupted(logger, task.Id, task.Tool, statusMessage);
        }
    }

    private async Task TryAsync<T>(Func<Task<T>> step)
    {
        try
        {
            await step();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTaskStoreFailed(logger, e.Message);
        }
    }

    private static string? Shorten(string? text) => text is { Length: > 300 } ? text[..300] + "…" : text;

    [LoggerMessage(EventName = "McpTaskFailed", Level = LogLevel.Warning, Message = "Task {TaskId} ({Tool}) failed: {Reason}")]
    private static partial void LogTaskFailed(ILogger logger, string taskId, string tool, string reason);

    [LoggerMessage(EventName = "McpTaskInterrupted", Level = LogLevel.Information, Message = "Task {TaskId} ({Tool}) ended: {Reason}")]
    private static partial void LogTaskInterrupted(ILogger logger, string taskId, string tool, string reason);

    [LoggerMessage(EventName = "McpTaskStoreFailed", Level = LogLevel.Warning, Message = "Task bookkeeping failed (will retry): {Reason}")]
    private static partial void LogTaskStoreFailed(ILogger logger, string reason);
}

/// <summary>A running task as the tool-call pipeline sees it (put in the request's items).</summary>
public sealed class McpTaskRun(string id, DateTimeOffset createdAt, McpTaskRunner runner)
{
    public string Id { get; } = id;

    /// <summary>Records the approval the task waits for.</summary>
    public Task AttachAsync(ApprovalRecord approval) => runner.AttachAsync(Id, createdAt, approval);
}
