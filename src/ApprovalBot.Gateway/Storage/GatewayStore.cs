using System.Text.Json;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Storage;
using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// The gateway's SQLite: approvals (the lifecycle's source of truth) and the audit trail.
/// Every lifecycle move is one conditional UPDATE on the current status, so concurrent
/// decisions cannot both win.
/// </summary>
public sealed partial class GatewayStore
{
    private readonly Database _database;

    /// <summary>The gateway's SQLite file at <paramref name="path"/>.</summary>
    public GatewayStore(string path)
        : this(new SqliteDatabase(path))
    {
    }

    public GatewayStore(Database database)
    {
        _database = database;
    }

    /// <summary>Where the rows are, for logs and errors: the file, or the PostgreSQL schema.</summary>
    public string Path => _database.Description;

    /// <summary>Gateway replicas share these rows (PostgreSQL): decisions, sweeps and tasks coordinate through them.</summary>
    public bool Shared => _database.SharedByReplicas;

    /// <summary>The few statements whose SQL differs between the dialects.</summary>
    private bool IsPostgres => _database.Provider == StorageProvider.Postgres;

    public Task MigrateAsync(CancellationToken cancellationToken) => _database.MigrateAsync(GatewayMigrations.All, cancellationToken);

    /// <summary>What every UPDATE that takes an approval out of Pending sets besides its status (parameters DecidedBy, DecidedByName, Channel, Comment, At).</summary>
    private const string DecisionColumns =
        "decided_by = @DecidedBy, decided_by_name = @DecidedByName, decided_channel = @Channel, comment = @Comment, resolved_at = @At, resolution_published = 0";

    /// <summary>SQL that appends <paramref name="parameter"/> to the JSON array of strings in <paramref name="column"/>: the one fragment the dialects spell differently.</summary>
    private string AppendToJsonList(string column, string parameter) =>
        IsPostgres
            ? $"({column}::jsonb || jsonb_build_array({parameter}::text))::text"
            : $"json_insert({column}, '$[#]', {parameter})";

    private const string InsertAudit = """
        INSERT INTO audit (at, agent, tool, decision, rule, reason, duration_ms, digest, approval_id, actor, channel, reference, grant_id)
        VALUES (@At, @Agent, @Tool, @Decision, @Rule, @Reason, @DurationMs, @Digest, @ApprovalId, @Actor, @Channel, @Reference, @GrantId)
        """;

    /// <summary>Several rows in one transaction: what the audit writer uses when calls arrive faster than single inserts.</summary>
    public Task AppendAuditAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken) =>
        AppendAuditAsync(entries, null, cancellationToken);

    /// <summary>
    /// Several rows in one transaction, and in the same transaction the webhook deliveries they
    /// cause: an audit row is never written without its events, nor an event without its row.
    /// </summary>
    /// <returns>How many webhook deliveries were queued.</returns>
    public async Task<int> AppendAuditAsync(IReadOnlyList<AuditEntry> entries, IAuditOutbox? outbox, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(InsertAudit, entries.Select(ToAuditRow), transaction);
        var messages = new List<OutboxMessage>();
        if (outbox is not null)
        {
            // The approval as stored now: its redacted arguments, approvers and deadline go into the event.
            var approvals = new Dictionary<Guid, ApprovalRecord?>();
            foreach (var entry in entries.Where(outbox.Wants))
            {
                ApprovalRecord? approval = null;
                if (entry.ApprovalId is { } id && !approvals.TryGetValue(id, out approval))
                {
                    approval = (await connection.QuerySingleOrDefaultAsync<ApprovalRow>(
                        SelectApproval + " WHERE id = @Id", new { Id = id.ToString() }, transaction))?.ToRecord();
                    approvals[id] = approval;
                }

                messages.AddRange(outbox.Messages(entry, approval));
            }

            await connection.ExecuteAsync(
                """
                INSERT INTO webhook_outbox (webhook, event_id, event, body, created_at, status, attempts, next_attempt_at)
                VALUES (@Webhook, @EventId, @Event, @Body, @CreatedAt, 'pending', 0, @CreatedAt)
                """,
                messages.Select(m => new { m.Webhook, EventId = m.EventId.ToString(), m.Event, m.Body, CreatedAt = m.CreatedAt.ToUnixTimeMilliseconds() }),
                transaction);
        }

        await transaction.CommitAsync(cancellationToken);
        return messages.Count;
    }

    public async Task<IReadOnlyList<AuditEntry>> ReadAuditAsync(Guid? approvalId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<AuditRow>(
            SelectAudit + " WHERE (@ApprovalId IS NULL OR approval_id = @ApprovalId) ORDER BY id DESC LIMIT @Limit",
            new { ApprovalId = approvalId?.ToString(), Limit = limit });
        return rows.Select(r => new AuditEntry(
            DateTimeOffset.FromUnixTimeMilliseconds(r.At), r.Decision, r.Agent, r.Tool, r.Rule, r.Reason, r.DurationMs, r.Digest,
            r.ApprovalId is null ? null : Guid.Parse(r.ApprovalId), r.Actor, r.Channel, r.Reference, r.GrantId is null ? null : Guid.Parse(r.GrantId))).ToList();
    }

    /// <summary>Today's (UTC) policy decisions, for the heartbeat.</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountDecisionsSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Decision, int Count)>(
            // A human denial (on an approval) is not a policy denial.
            "SELECT decision, COUNT(*) FROM audit WHERE at >= @Since AND NOT (decision = 'denied' AND approval_id IS NOT NULL) GROUP BY decision",
            new { Since = since.ToUnixTimeMilliseconds() });
        return rows.ToDictionary(r => r.Decision, r => r.Count);
    }

    public async Task InsertApprovalAsync(ApprovalRecord record, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            """
            INSERT INTO approvals (id, tool, upstream, agent, arguments_redacted, digest, reason, rule, approvers, approvals_required,
                                   approved_by, status, wait_mode, requested_at, expires_at, instance, request_published, resolution_published,
                                   grants_offered, grant_scope, rule_fingerprint, editable, escalate_at, escalate_to)
            VALUES (@Id, @Tool, @Upstream, @Agent, @ArgumentsRedacted, @Digest, @Reason, @Rule, @Approvers, @ApprovalsRequired,
                    '[]', 'Pending', @WaitMode, @RequestedAt, @ExpiresAt, @Instance, 0, 1,
                    @GrantsOffered, @GrantScope, @RuleFingerprint, @Editable, @EscalateAt, @EscalateTo)
            """,
            new
            {
                Id = record.Id.ToString(),
                record.Tool,
                record.Upstream,
                record.Agent,
                record.ArgumentsRedacted,
                record.Digest,
                record.Reason,
                record.Rule,
                Approvers = JsonSerializer.Serialize(record.Approvers),
                record.ApprovalsRequired,
                record.WaitMode,
                RequestedAt = record.RequestedAt.ToUnixTimeMilliseconds(),
                ExpiresAt = record.ExpiresAt.ToUnixTimeMilliseconds(),
                record.Instance,
                GrantsOffered = record.GrantsOffered is { Count: > 0 } offered ? JsonSerializer.Serialize(offered.Select(d => (long)d.TotalMilliseconds)) : null,
                record.GrantScope,
                record.RuleFingerprint,
                // A 0/1 INTEGER on both providers (PostgreSQL would not take a boolean into it).
                Editable = record.Editable ? 1 : 0,
                EscalateAt = record.EscalateAt?.ToUnixTimeMilliseconds(),
                EscalateTo = record.EscalateTo is null ? null : JsonSerializer.Serialize(record.EscalateTo),
            });
    }

    public async Task<ApprovalRecord?> GetApprovalAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<ApprovalRow>(SelectApproval + " WHERE id = @Id", new { Id = id.ToString() });
        return row?.ToRecord();
    }

    /// <summary>The newest approval for the same agent, tool and argument digest: what an identical call joins, redeems or is told.</summary>
    public async Task<ApprovalRecord?> FindLatestAsync(string agent, string tool, string digest, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<ApprovalRow>(
            SelectApproval + " WHERE agent = @agent AND tool = @tool AND digest = @digest ORDER BY requested_at DESC LIMIT 1",
            new { agent, tool, digest });
        return row?.ToRecord();
    }

    public async Task<int> CountPendingAsync(string? agent, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(
            "SELECT COUNT(*) FROM approvals WHERE status = 'Pending' AND (@agent IS NULL OR agent = @agent)", new { agent });
    }

    /// <summary>
    /// Records one approver's vote toward a quorum without leaving Pending. Conditional on the
    /// approved_by list the caller saw, so two simultaneous votes cannot overwrite each other.
    /// </summary>
    public async Task<bool> TryAddVoteAsync(Guid id, IReadOnlyList<string> seen, string principal, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var next = seen.Append(principal).ToList();
        return await connection.ExecuteAsync(
            IsPostgres
                // Compared as JSON: an approver appended by PostgreSQL is written with jsonb's spacing.
                ? "UPDATE approvals SET approved_by = @Next WHERE id = @Id AND status = 'Pending' AND approved_by::jsonb = @Seen::jsonb"
                : "UPDATE approvals SET approved_by = @Next WHERE id = @Id AND status = 'Pending' AND approved_by = @Seen",
            new { Id = id.ToString(), Next = JsonSerializer.Serialize(next), Seen = JsonSerializer.Serialize(seen) }) == 1;
    }

    /// <summary>The one conditional UPDATE of the lifecycle: moves from <paramref name="from"/> or changes nothing.</summary>
    public async Task<bool> TryTransitionAsync(
        Guid id, ApprovalStatus from, ApprovalStatus to, DateTimeOffset at,
        string? decidedBy = null, string? decidedByName = null, string? channel = null, string? comment = null,
        string? addApprover = null, CancellationToken cancellationToken = default)
    {
        if (!ApprovalStatusRules.CanMove(from, to))
        {
            throw new InvalidOperationException($"{from} → {to} is not a lifecycle transition.");
        }

        await using var connection = await _database.OpenAsync(cancellationToken);
        var leavesPending = from == ApprovalStatus.Pending;
        return await connection.ExecuteAsync(
            $"""
            UPDATE approvals SET status = @To,
                {(leavesPending ? DecisionColumns + "," : "")}
                approved_by = CASE WHEN @AddApprover IS NULL THEN approved_by ELSE {AppendToJsonList("approved_by", "@AddApprover")} END
            WHERE id = @Id AND status = @From
            """,
            new
            {
                Id = id.ToString(),
                From = from.ToString(),
                To = to.ToString(),
                At = at.ToUnixTimeMilliseconds(),
                DecidedBy = decidedBy,
                DecidedByName = decidedByName,
                Channel = channel,
                Comment = comment,
                AddApprover = addApprover,
            }) == 1;
    }

    /// <summary>
    /// The first identical call after approval claims it (single use); later ones do not. The claiming
    /// instance takes the row over (<paramref name="instance"/>): with replicas the call may run on one
    /// that did not open the approval, and only the one running it may end it as failed after a restart.
    /// </summary>
    public async Task<bool> TryClaimAsync(Guid id, DateTimeOffset at, CancellationToken cancellationToken, string? instance = null)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "UPDATE approvals SET claimed_at = @At, instance = COALESCE(@Instance, instance) WHERE id = @Id AND status = 'Approved' AND claimed_at IS NULL",
            new { Id = id.ToString(), At = at.ToUnixTimeMilliseconds(), Instance = instance }) == 1;
    }

    /// <summary>Pending approvals past their deadline, moved to Expired in one statement; returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> ExpireDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(
            """
            UPDATE approvals SET status = 'Expired', resolved_at = @Now, resolution_published = 0
            WHERE status = 'Pending' AND expires_at <= @Now
            RETURNING id
            """,
            new { Now = now.ToUnixTimeMilliseconds() });
        return ids.Select(Guid.Parse).ToList();
    }

    /// <summary>Approved approvals nobody claimed since <paramref name="approvedBefore"/>, moved to Lapsed in one statement; returns their ids.</summary>
    public async Task<IReadOnlyList<Guid>> LapseDueAsync(DateTimeOffset approvedBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(
            "UPDATE approvals SET status = 'Lapsed' WHERE status = 'Approved' AND claimed_at IS NULL AND resolved_at <= @Before RETURNING id",
            new { Before = approvedBefore.ToUnixTimeMilliseconds() });
        return ids.Select(Guid.Parse).ToList();
    }

    /// <summary>Approvals of this instance claimed but never finished: the process stopped while the call ran upstream.</summary>
    public async Task<IReadOnlyList<ApprovalRecord>> ListClaimedUnfinishedAsync(string instance, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ApprovalRow>(
            SelectApproval + " WHERE status = 'Approved' AND claimed_at IS NOT NULL AND instance = @instance",
            new { instance });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task MarkRequestPublishedAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync("UPDATE approvals SET request_published = 1 WHERE id = @Id", new { Id = id.ToString() });
    }

    public async Task MarkResolutionPublishedAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync("UPDATE approvals SET resolution_published = 1 WHERE id = @Id", new { Id = id.ToString() });
    }

    /// <summary>
    /// This instance's approvals whose Requested or Resolved never reached the bus; with
    /// <paramref name="othersBefore"/>, also other instances' that have waited since before then
    /// (replicas sharing the store adopt what a dead replica left unsent; the bots take a repeat as a no-op).
    /// </summary>
    public async Task<IReadOnlyList<ApprovalRecord>> ListUnpublishedAsync(string instance, CancellationToken cancellationToken, DateTimeOffset? othersBefore = null)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ApprovalRow>(
            SelectApproval + """
                 WHERE (request_published = 0 OR resolution_published = 0)
                   AND (instance = @instance
                        OR (request_published = 0 AND requested_at < @OthersBefore)
                        OR (resolution_published = 0 AND resolved_at < @OthersBefore))
                 ORDER BY requested_at
                """,
            // long.MinValue: no other instance's row is old enough.
            new { instance, OthersBefore = othersBefore?.ToUnixTimeMilliseconds() ?? long.MinValue });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Remembers a decision message id; false when it was seen before (a redelivery).</summary>
    public async Task<bool> TryRememberDecisionAsync(Guid decisionId, Guid approvalId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "INSERT INTO decisions_seen (decision_id, approval_id, at) VALUES (@DecisionId, @ApprovalId, @At) ON CONFLICT DO NOTHING",
            new { DecisionId = decisionId.ToString(), ApprovalId = approvalId.ToString(), At = at.ToUnixTimeMilliseconds() }) == 1;
    }

    private const string SelectApproval = """
        SELECT id AS Id, tool AS Tool, upstream AS Upstream, agent AS Agent, arguments_redacted AS ArgumentsRedacted, digest AS Digest,
               reason AS Reason, rule AS Rule, approvers AS Approvers, approvals_required AS ApprovalsRequired, approved_by AS ApprovedBy,
               status AS Status, wait_mode AS WaitMode, requested_at AS RequestedAt, expires_at AS ExpiresAt, decided_by AS DecidedBy,
               decided_by_name AS DecidedByName, decided_channel AS DecidedChannel, comment AS Comment, resolved_at AS ResolvedAt,
               instance AS Instance, claimed_at AS ClaimedAt, grants_offered AS GrantsOffered, grant_scope AS GrantScope,
               rule_fingerprint AS RuleFingerprint, grant_id AS GrantId, editable AS Editable, edited_arguments AS EditedArguments,
               edited_digest AS EditedDigest, escalate_at AS EscalateAt, escalate_to AS EscalateTo, escalated_at AS EscalatedAt,
               reminded_at AS RemindedAt
        FROM approvals
        """;

    private static object ToAuditRow(AuditEntry e) => new
    {
        At = e.At.ToUnixTimeMilliseconds(),
        e.Agent,
        e.Tool,
        e.Decision,
        e.Rule,
        e.Reason,
        e.DurationMs,
        e.Digest,
        ApprovalId = e.ApprovalId?.ToString(),
        e.Actor,
        e.Channel,
        e.Reference,
        GrantId = e.GrantId?.ToString(),
    };

    private sealed class AuditRow
    {
        public long Id { get; init; }
        public long At { get; init; }
        public string? Agent { get; init; }
        public string? Tool { get; init; }
        public string Decision { get; init; } = "";
        public string? Rule { get; init; }
        public string? Reason { get; init; }
        public double? DurationMs { get; init; }
        public string? Digest { get; init; }
        public string? ApprovalId { get; init; }
        public string? Actor { get; init; }
        public string? Channel { get; init; }
        public string? Reference { get; init; }
        public string? GrantId { get; init; }

        public AuditRecord ToRecord() => new(
            Id, DateTimeOffset.FromUnixTimeMilliseconds(At), AuditDecisions.Present(Decision, ApprovalId is not null), Agent, Tool, Rule, Reason,
            DurationMs, Digest, ApprovalId is null ? null : Guid.Parse(ApprovalId), Actor, Channel, Reference, GrantId is null ? null : Guid.Parse(GrantId));
    }

    private sealed class ApprovalRow
    {
        public string Id { get; init; } = "";
        public string Tool { get; init; } = "";
        public string Upstream { get; init; } = "";
        public string Agent { get; init; } = "";
        public string ArgumentsRedacted { get; init; } = "{}";
        public string Digest { get; init; } = "";
        public string? Reason { get; init; }
        public string Rule { get; init; } = "";
        public string Approvers { get; init; } = "[]";
        public long ApprovalsRequired { get; init; }
        public string ApprovedBy { get; init; } = "[]";
        public string Status { get; init; } = "";
        public string WaitMode { get; init; } = "";
        public long RequestedAt { get; init; }
        public long ExpiresAt { get; init; }
        public string? DecidedBy { get; init; }
        public string? DecidedByName { get; init; }
        public string? DecidedChannel { get; init; }
        public string? Comment { get; init; }
        public long? ResolvedAt { get; init; }
        public string Instance { get; init; } = "";
        public long? ClaimedAt { get; init; }
        public string? GrantsOffered { get; init; }
        public string? GrantScope { get; init; }
        public string? RuleFingerprint { get; init; }
        public string? GrantId { get; init; }
        public bool Editable { get; init; }
        public string? EditedArguments { get; init; }
        public string? EditedDigest { get; init; }
        public long? EscalateAt { get; init; }
        public string? EscalateTo { get; init; }
        public long? EscalatedAt { get; init; }
        public long? RemindedAt { get; init; }

        public ApprovalRecord ToRecord() => new(
            Guid.Parse(Id), Tool, Upstream, Agent, ArgumentsRedacted, Digest, Reason, Rule,
            JsonSerializer.Deserialize<string[]>(Approvers) ?? [], (int)ApprovalsRequired,
            JsonSerializer.Deserialize<string[]>(ApprovedBy) ?? [], Enum.Parse<ApprovalStatus>(Status), WaitMode,
            DateTimeOffset.FromUnixTimeMilliseconds(RequestedAt), DateTimeOffset.FromUnixTimeMilliseconds(ExpiresAt),
            DecidedBy, DecidedByName, DecidedChannel, Comment,
            ResolvedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ResolvedAt.Value), Instance,
            ClaimedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ClaimedAt.Value),
            GrantsOffered is null ? null : (JsonSerializer.Deserialize<long[]>(GrantsOffered) ?? []).Select(ms => TimeSpan.FromMilliseconds(ms)).ToArray(),
            GrantScope,
            RuleFingerprint,
            GrantId is null ? null : Guid.Parse(GrantId),
            Editable,
            EditedArguments,
            EditedDigest,
            EscalateAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(EscalateAt.Value),
            EscalateTo is null ? null : JsonSerializer.Deserialize<string[]>(EscalateTo),
            EscalatedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(EscalatedAt.Value),
            RemindedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(RemindedAt.Value));
    }
}
