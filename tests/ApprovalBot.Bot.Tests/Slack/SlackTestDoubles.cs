using System.Collections.Concurrent;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>Records every decision; answers like the gateway would (the first decision wins).</summary>
public sealed class FakeApprovalDecisions(InMemoryApprovalReadModel readModel) : IApprovalDecisions
{
    private readonly ConcurrentQueue<DecisionCommand> _commands = new();
    private readonly object _gate = new();

    public IReadOnlyList<DecisionCommand> Commands => _commands.ToArray();

    /// <summary>When set, DecideAsync throws this (a gateway that does not answer).</summary>
    public Exception? Failure { get; set; }

    public Task<ApprovalDecisionOutcome> DecideAsync(DecisionCommand command, CancellationToken cancellationToken)
    {
        _commands.Enqueue(command);
        if (Failure is not null)
        {
            throw Failure;
        }

        lock (_gate)
        {
            var view = readModel.Get(command.ApprovalId);
            if (view is null)
            {
                return Task.FromResult(new ApprovalDecisionOutcome(command.ApprovalId, false, "Unknown", "Unknown approval."));
            }

            if (view.Status != ApprovalStatus.Pending)
            {
                return Task.FromResult(new ApprovalDecisionOutcome(command.ApprovalId, false, view.Status.ToString(),
                    $"Already {ApprovalJudge.Describe(view.Status)} by {view.DecidedBy?.DisplayName}."));
            }

            var status = command.Withdraw ? ApprovalStatus.Cancelled : command.Approve ? ApprovalStatus.Approved : ApprovalStatus.Denied;
            readModel.Put(view with { Status = status, DecidedBy = command.Approver, Comment = command.Comment, ResolvedAt = DateTimeOffset.UtcNow });
            return Task.FromResult(new ApprovalDecisionOutcome(command.ApprovalId, true, status.ToString(),
                $"{(command.Withdraw ? "Withdrawn" : command.Approve ? "Approved" : "Denied")} by {command.Approver.DisplayName}."));
        }
    }
}

public sealed class InMemoryApprovalReadModel : IApprovalReadModel
{
    private readonly ConcurrentDictionary<Guid, ApprovalView> _views = new();

    public void Put(ApprovalView view) => _views[view.Id] = view;

    public ApprovalView? Get(Guid id) => _views.TryGetValue(id, out var view) ? view : null;

    public Task<ApprovalView?> GetAsync(Guid approvalId, CancellationToken cancellationToken) => Task.FromResult(Get(approvalId));

    public Task<IReadOnlyList<ApprovalView>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ApprovalView>>(_views.Values.Where(v => status is null || v.Status == status)
            .OrderBy(v => v.Request.RequestedAt).Take(limit).ToList());
}

/// <summary>Approvals as the gateway would publish them.</summary>
public static class TestApprovals
{
    public const string Tool = "agentwork_cancel_task";
    public const string Approver = "U024BE7LH";

    public static ApprovalView Pending(
        string redactedArguments = """{"task_id":"T-42","api_key":"[redacted]"}""",
        IReadOnlyList<string>? approvers = null,
        int approvalsRequired = 1,
        string tool = Tool,
        DateTimeOffset? requestedAt = null,
        string? reason = "Cancels a running task; cannot be undone")
    {
        var at = requestedAt ?? DateTimeOffset.UtcNow;
        return new ApprovalView(
            new ApprovalRequested(
                Guid.NewGuid(), tool, "agentwork", "ci-bot", redactedArguments,
                "3f2a9c0e5b7d41e8a6c2f0b9d8e7a6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b", reason,
                approvers ?? ["slack:" + Approver, "teams:0f5c1d2e-aad", "console:admin"], approvalsRequired,
                at, at.AddMinutes(15), new Uri("rabbitmq://localhost/gateway-1"), "gateway-1"),
            ApprovalStatus.Pending, null, null, null);
    }
}

/// <summary>Keeps every log line, formatted, for assertions.</summary>
public sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyList<LogLine> Lines => _lines.ToArray();

    public ILogger CreateLogger(string categoryName) => new ListLogger(this, categoryName);

    public void Dispose()
    {
    }

    public sealed record LogLine(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    private sealed class ListLogger(ListLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue(new LogLine(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
