using System.Collections.Concurrent;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>The bot's read model, in memory.</summary>
public sealed class TeamsReadModel : IApprovalReadModel
{
    private readonly ConcurrentDictionary<Guid, ApprovalView> _views = new();

    public void Put(ApprovalView view) => _views[view.Id] = view;

    public Task<ApprovalView?> GetAsync(Guid approvalId, CancellationToken cancellationToken) =>
        Task.FromResult(_views.TryGetValue(approvalId, out var view) ? view : null);

    public Task<IReadOnlyList<ApprovalView>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ApprovalView>>(_views.Values
            .Where(v => status is null || v.Status == status)
            .OrderBy(v => v.Request.RequestedAt)
            .Take(limit)
            .ToList());
}

/// <summary>
/// Records every decision and answers like the gateway would: the first decision on a pending
/// approval wins and is applied to the read model; later ones get "Already … by …".
/// Set <see cref="Respond"/> to answer differently (or throw).
/// </summary>
public sealed class RecordingApprovalDecisions(TeamsReadModel readModel, TimeProvider time) : IApprovalDecisions
{
    private readonly ConcurrentQueue<DecisionCommand> _commands = new();

    public IReadOnlyList<DecisionCommand> Commands => _commands.ToArray();

    public Func<DecisionCommand, ApprovalDecisionOutcome>? Respond { get; set; }

    public async Task<ApprovalDecisionOutcome> DecideAsync(DecisionCommand command, CancellationToken cancellationToken)
    {
        _commands.Enqueue(command);
        if (Respond is { } respond)
        {
            return respond(command);
        }

        var view = await readModel.GetAsync(command.ApprovalId, cancellationToken);
        if (view is null)
        {
            return new ApprovalDecisionOutcome(command.ApprovalId, false, "Unknown", "Unknown approval.");
        }

        if (view.Status != ApprovalStatus.Pending)
        {
            return new ApprovalDecisionOutcome(command.ApprovalId, false, view.Status.ToString(),
                $"Already {ApprovalJudge.Describe(view.Status)} by {view.DecidedBy?.DisplayName ?? "nobody"}.");
        }

        var status = command.Withdraw ? ApprovalStatus.Cancelled : command.Approve ? ApprovalStatus.Approved : ApprovalStatus.Denied;
        readModel.Put(view with { Status = status, DecidedBy = command.Approver, Comment = command.Comment, ResolvedAt = time.GetUtcNow() });
        return new ApprovalDecisionOutcome(command.ApprovalId, true, status.ToString(),
            $"{(command.Withdraw ? "Withdrawn" : command.Approve ? "Approved" : "Denied")} by {command.Approver.DisplayName}.");
    }
}

/// <summary>Card references and settings, in memory.</summary>
/// <summary>Keeps every log line (category, level, event name, message) for assertions.</summary>
public sealed class TeamsLogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<TeamsLogEntry> _entries = new();

    public IReadOnlyList<TeamsLogEntry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TeamsLogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink._entries.Enqueue(new TeamsLogEntry(category, logLevel, eventId.Name, formatter(state, exception), exception));
    }
}

public sealed record TeamsLogEntry(string Category, LogLevel Level, string? EventName, string Message, Exception? Exception);
