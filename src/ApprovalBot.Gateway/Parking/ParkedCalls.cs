using System.Collections.Concurrent;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Parking;

/// <summary>How a parked approval ended, as far as the waiting calls need to know.</summary>
public sealed record ParkedOutcome(ApprovalStatus Status, Approver? By, string? Comment);

/// <summary>
/// The calls this process holds open, by approval. Costs one small object per approval and one
/// registration per waiting call; no thread is held while waiting.
/// </summary>
public sealed class ParkedCalls
{
    private readonly ConcurrentDictionary<Guid, ParkedApproval> _approvals = new();

    public int Count => _approvals.Count;

    public IEnumerable<Guid> Ids => _approvals.Keys;

    /// <summary>Joins (or starts) the wait for an approval; dispose the ticket when the call is done waiting.</summary>
    public ParkedTicket Join(Guid approvalId)
    {
        while (true)
        {
            var approval = _approvals.GetOrAdd(approvalId, id => new ParkedApproval(id));
            lock (approval)
            {
                if (approval.Closed)
                {
                    continue;
                }

                approval.Waiters++;
                return new ParkedTicket(this, approval);
            }
        }
    }

    /// <summary>Delivers the outcome to every call waiting on the approval; false when none waits here.</summary>
    public bool Resolve(Guid approvalId, ParkedOutcome outcome)
    {
        if (!_approvals.TryGetValue(approvalId, out var approval))
        {
            return false;
        }

        return approval.Outcome.TrySetResult(outcome);
    }

    internal bool Leave(ParkedApproval approval)
    {
        lock (approval)
        {
            approval.Waiters--;
            if (approval.Waiters > 0)
            {
                return false;
            }

            approval.Closed = true;
            _approvals.TryRemove(new KeyValuePair<Guid, ParkedApproval>(approval.Id, approval));
            return true;
        }
    }
}

public sealed class ParkedApproval(Guid id)
{
    public Guid Id { get; } = id;
    public int Waiters { get; set; }
    public bool Closed { get; set; }

    public TaskCompletionSource<ParkedOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Identical waiting calls share one execution: the first to get here runs it, the rest await its result.</summary>
    private Task<CallToolResult>? _execution;

    public Task<CallToolResult> ExecuteOnce(Func<Task<CallToolResult>> execute)
    {
        lock (this)
        {
            return _execution ??= execute();
        }
    }
}

public sealed class ParkedTicket(ParkedCalls owner, ParkedApproval approval) : IDisposable
{
    private int _disposed;

    public ParkedApproval Approval { get; } = approval;

    /// <summary>True when this was the last call waiting (so a cancellation may cancel the approval).</summary>
    public bool WasLast { get; private set; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            WasLast = owner.Leave(Approval);
        }
    }

    /// <summary>Leaves now and says whether no other call still waits.</summary>
    public bool LeaveAndCheckLast()
    {
        Dispose();
        return WasLast;
    }
}
