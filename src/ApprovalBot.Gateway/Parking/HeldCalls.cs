using System.Collections.Concurrent;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Parking;

/// <summary>How a held approval ended, as far as the waiting calls need to know.</summary>
public sealed record HeldOutcome(ApprovalStatus Status, Approver? By, string? Comment);

/// <summary>
/// The agent calls this process holds open, by approval. Costs one small object per approval with
/// a call waiting and one registration per waiting call; no thread is held while waiting, and an
/// approval nobody waits for costs nothing here (it lives in the database).
/// </summary>
public sealed class HeldCalls
{
    private readonly ConcurrentDictionary<Guid, HeldApproval> _approvals = new();

    /// <summary>Approvals with at least one call waiting (or running) in this process.</summary>
    public int Count => _approvals.Count;

    public bool IsWaiting(Guid approvalId) => _approvals.ContainsKey(approvalId);

    /// <summary>Joins (or starts) the wait for an approval; dispose the ticket when the call is done waiting.</summary>
    public HeldTicket Join(Guid approvalId)
    {
        while (true)
        {
            var approval = _approvals.GetOrAdd(approvalId, id => new HeldApproval(id));
            lock (approval)
            {
                if (approval.Closed)
                {
                    continue;
                }

                approval.Waiters++;
                return new HeldTicket(this, approval, approval.Waiters == 1);
            }
        }
    }

    /// <summary>Delivers the outcome to every call waiting on the approval; false when none waits here.</summary>
    public bool Resolve(Guid approvalId, HeldOutcome outcome) =>
        _approvals.TryGetValue(approvalId, out var approval) && approval.Outcome.TrySetResult(outcome);

    internal bool Leave(HeldApproval approval)
    {
        lock (approval)
        {
            approval.Waiters--;
            if (approval.Waiters > 0)
            {
                return false;
            }

            approval.Closed = true;
            _approvals.TryRemove(new KeyValuePair<Guid, HeldApproval>(approval.Id, approval));
            return true;
        }
    }
}

public sealed class HeldApproval(Guid id)
{
    private Task<CallToolResult>? _execution;

    public Guid Id { get; } = id;
    internal int Waiters { get; set; }
    internal bool Closed { get; set; }

    public TaskCompletionSource<HeldOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Identical calls in this process share one execution: the first to get here runs it, the rest await its result.</summary>
    public Task<CallToolResult> ExecuteOnce(Func<Task<CallToolResult>> execute)
    {
        lock (this)
        {
            return _execution ??= execute();
        }
    }
}

public sealed class HeldTicket(HeldCalls owner, HeldApproval approval, bool first) : IDisposable
{
    private int _left;

    public HeldApproval Approval { get; } = approval;

    /// <summary>True when no other call of this approval was waiting in this process when this one joined.</summary>
    public bool IsFirst { get; } = first;

    /// <summary>Stops waiting; true when this was the last call waiting here.</summary>
    public bool Leave() => Interlocked.Exchange(ref _left, 1) == 0 && owner.Leave(Approval);

    public void Dispose() => Leave();
}
