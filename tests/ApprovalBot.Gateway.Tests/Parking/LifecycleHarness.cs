using System.Collections.Concurrent;
using System.Text.Json;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Policy;
using ApprovalBot.Core.Redaction;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Grants;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Tests.Parking;

/// <summary>The gateway's approval machinery on a real SQLite file, a fake clock and a recording bus.</summary>
public sealed class LifecycleHarness : IAsyncDisposable
{
    public static readonly Approver Alice = new("slack", "UALICE", "Alice", "T1");
    public static readonly Approver Bob = new("slack", "UBOB", "Bob", "T1");
    public static readonly Approver Mallory = new("slack", "UMALLORY", "Mallory", "T1");

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-unit", Guid.NewGuid().ToString("n"));

    public LifecycleHarness(ApprovalOptions? options = null)
    {
        Directory.CreateDirectory(_directory);
        Time = new TimerClock(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.Zero));
        Store = new GatewayStore(Path.Combine(_directory, "gateway.db"));
        Audit = new AuditTrail(Store, NullLogger<AuditTrail>.Instance);
        // Held for an hour unless a test says otherwise, so the fake clock decides when a call is handed back.
        Options = options ?? new ApprovalOptions { DefaultTimeout = TimeSpan.FromMinutes(10), ProgressInterval = TimeSpan.FromSeconds(10), HoldFor = TimeSpan.FromHours(1) };
        Digests = new ArgumentDigest(new byte[32]);
        (Lifecycle, Gate) = NewProcess();
    }

    /// <summary>What a (re)started gateway process builds over the same database: nothing held in memory.</summary>
    public (ApprovalLifecycle Lifecycle, ApprovalGate Gate) NewProcess()
    {
        var held = new HeldCalls();
        var grants = new GrantLifecycle(Store, Events, Audit, new GatewayInstance("unit-gw"), Time, NullLogger<GrantLifecycle>.Instance);
        var lifecycle = new ApprovalLifecycle(Store, held, Events, Audit, new GatewayInstance("unit-gw"), Options, new SecretRedactor(), Time, NullLogger<ApprovalLifecycle>.Instance, grants: grants);
        Grants = grants;
        return (lifecycle, new ApprovalGate(Store, held, lifecycle, Digests, Options, new ApprovalChannelsDescription("tests"), Time, NullLogger<ApprovalGate>.Instance, grants));
    }

    /// <summary>The fake clock; <see cref="TimerClock.WaitForTimerAsync"/> says when a held call's timer is armed.</summary>
    public TimerClock Time { get; }
    public GatewayStore Store { get; }
    public AuditTrail Audit { get; }
    public ApprovalOptions Options { get; }
    public ArgumentDigest Digests { get; }
    public RecordingEvents Events { get; } = new();
    public ApprovalLifecycle Lifecycle { get; }
    public ApprovalGate Gate { get; }

    /// <summary>The grants of the latest <see cref="NewProcess"/>.</summary>
    public GrantLifecycle Grants { get; private set; } = null!;
    public ConcurrentQueue<IDictionary<string, JsonElement>?> Executed { get; } = new();

    public async Task InitializeAsync()
    {
        await Store.MigrateAsync(CancellationToken.None);
        await Audit.StartAsync(CancellationToken.None);
    }

    /// <param name="grants">The rule's <c>grants</c> (durations an approver may approve for).</param>
    /// <param name="fingerprint">Stands for the rule's content: a grant is usable only under the same one.</param>
    public static PolicyDecision Rule(
        IReadOnlyList<string>? approvers = null, int required = 1, ApprovalWait wait = ApprovalWait.Block, TimeSpan? timeout = null, TimeSpan? hold = null,
        IReadOnlyList<TimeSpan>? grants = null, GrantScope scope = GrantScope.Tool, string fingerprint = "rule-v1", EscalationRule? escalate = null) =>
        new(PolicyAction.RequireApproval, "rules.agentwork_cancel_task", "Cancels a task", null, approvers ?? [Alice.Principal, Bob.Principal], timeout, wait, required, hold)
        {
            Grants = grants ?? [],
            GrantScope = scope,
            Fingerprint = fingerprint,
            Escalation = escalate,
        };

    public static Dictionary<string, JsonElement> Args(string task = "T-100") => new()
    {
        ["task_id"] = JsonSerializer.SerializeToElement(task),
        ["api_key"] = JsonSerializer.SerializeToElement("sk-live-secret"),
    };

    /// <summary>Starts a guarded call; the upstream "runs" by recording the arguments it got.</summary>
    public Task<CallToolResult> CallAsync(
        PolicyDecision decision, Dictionary<string, JsonElement>? arguments = null, string agent = "agent-1",
        CancellationToken cancellationToken = default, ApprovalGate? gate = null, TimeSpan? upstreamTakes = null,
        Func<Task<CallToolResult>>? upstream = null)
    {
        var args = arguments ?? Args();
        return (gate ?? Gate).HoldAsync(
            new GuardedCall(agent, "agentwork_cancel_task", "agentwork", args, decision, null, null),
            async (sent, _) =>
            {
                Executed.Enqueue(sent);
                if (upstreamTakes is { } takes)
                {
                    await Task.Delay(takes);
                }

                return upstream is null ? new CallToolResult { Content = [new TextContentBlock { Text = "done" }] } : await upstream();
            },
            cancellationToken).AsTask();
    }

    /// <summary>Waits until <paramref name="count"/> calls wait on the approval in this process (joined, not yet answered).</summary>
    public Task WaitForAuditAsync(Guid id, string decision, int count = 1) =>
        Eventually.TrueAsync(async () => (await AuditAsync(id)).Count(a => a.Decision == decision) >= count, $"{count} audit row(s) {decision}");

    public static Guid ApprovalIdOf(CallToolResult result) => Guid.Parse(result.Meta!["approvalbot"]!["approvalId"]!.GetValue<string>());

    public async Task<Guid> WaitForRequestAsync(int count = 1)
    {
        await Eventually.TrueAsync(() => Events.Requested.Count >= count, $"{count} approval request(s) on the bus");
        return Events.Requested.ElementAt(count - 1).ApprovalId;
    }

    public Task<ApprovalDecisionOutcome> DecideAsync(Guid id, Approver who, bool approve, string? comment = null, string? grant = null) =>
        Lifecycle.DecideAsync(new ApprovalDecision(id, Guid.NewGuid(), approve, who, comment, Time.GetUtcNow(), "slack", Grant: grant), CancellationToken.None);

    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(Guid id)
    {
        await Audit.FlushAsync(CancellationToken.None);
        return await Store.ReadAuditAsync(id, 100, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Audit.StopAsync(CancellationToken.None);
        Audit.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite's pool may still hold the file for a moment; the temp folder is cleaned eventually.
        }
    }
}

public sealed class RecordingEvents : IApprovalEvents, IGrantEvents
{
    public ConcurrentQueue<ApprovalEscalated> Escalated { get; } = new();
    public ConcurrentQueue<ApprovalReminder> Reminders { get; } = new();

    public Task PublishEscalatedAsync(ApprovalEscalated message, CancellationToken cancellationToken) => Record(Escalated, message);

    public Task PublishReminderAsync(ApprovalReminder message, CancellationToken cancellationToken) => Record(Reminders, message);

    public ConcurrentQueue<GrantCreated> GrantsCreated { get; } = new();
    public ConcurrentQueue<GrantEnded> GrantsEnded { get; } = new();

    public Task PublishGrantCreatedAsync(GrantCreated message, CancellationToken cancellationToken) => Record(GrantsCreated, message);

    public Task PublishGrantEndedAsync(GrantEnded message, CancellationToken cancellationToken) => Record(GrantsEnded, message);

    public ConcurrentQueue<ApprovalRequested> Requested { get; } = new();
    public ConcurrentQueue<ApprovalResolved> Resolved { get; } = new();
    public ConcurrentQueue<ApprovalExecuted> Executed { get; } = new();
    public bool Down { get; set; }

    public Uri GatewayAddress { get; } = new("queue:approvalbot-gateway-unit-gw");

    public Task PublishRequestedAsync(ApprovalRequested message, CancellationToken cancellationToken) => Record(Requested, message);

    public Task PublishResolvedAsync(ApprovalResolved message, CancellationToken cancellationToken) => Record(Resolved, message);

    public Task PublishExecutedAsync(ApprovalExecuted message, CancellationToken cancellationToken) => Record(Executed, message);

    public ConcurrentQueue<ApprovalVoted> Voted { get; } = new();

    public Task PublishVotedAsync(ApprovalVoted message, CancellationToken cancellationToken) => Record(Voted, message);

    public ConcurrentQueue<ApprovalWaiting> Waiting { get; } = new();

    public Task PublishWaitingAsync(ApprovalWaiting message, CancellationToken cancellationToken) => Record(Waiting, message);

    public ConcurrentQueue<ApprovalLapsed> Lapsed { get; } = new();

    public Task PublishLapsedAsync(ApprovalLapsed message, CancellationToken cancellationToken) => Record(Lapsed, message);

    private readonly ConcurrentDictionary<Type, int> _attempts = new();

    /// <summary>Publishes of <typeparamref name="T"/> tried, including those that failed because the bus was down.</summary>
    public int AttemptsOf<T>() => _attempts.GetValueOrDefault(typeof(T));

    private Task Record<T>(ConcurrentQueue<T> into, T message)
    {
        _attempts.AddOrUpdate(typeof(T), 1, (_, n) => n + 1);
        if (Down)
        {
            throw new TimeoutException("bus down");
        }

        into.Enqueue(message);
        return Task.CompletedTask;
    }
}
