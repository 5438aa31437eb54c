using System.Text.Json;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Storage;
using Dapper;

namespace ApprovalBot.Bot.Storage;

/// <summary>
/// The bot's store: a read model of approvals built from bus messages (for the console and
/// /policy status) and the references of the cards each channel posted. One SQLite file per bot, or
/// the "bot" schema of a PostgreSQL database that every bot replica shares (then a click on any
/// replica finds the card another posted). The SQL is the same on both but for the few fragments
/// that differ (<see cref="IsPostgres"/>).
/// </summary>
internal sealed partial class BotStore : IApprovalReadModel, ICardReferences, IGrantReadModel
{
    private static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "read model and cards", """
            CREATE TABLE approvals (
                id TEXT PRIMARY KEY,
                request TEXT NOT NULL,
                tool TEXT NOT NULL,
                status TEXT NOT NULL,
                requested_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                decided_by TEXT,
                comment TEXT,
                resolved_at INTEGER,
                succeeded INTEGER,
                execution_summary TEXT
            );
            CREATE INDEX ix_approvals_status ON approvals (status, requested_at);
            CREATE INDEX ix_approvals_resolved ON approvals (resolved_at);
            CREATE TABLE cards (
                approval_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                reference TEXT NOT NULL,
                PRIMARY KEY (approval_id, channel, reference)
            );
            CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """),
        new(2, "status counts from an index", """
            CREATE INDEX ix_approvals_resolved_status ON approvals (resolved_at, status);
            """),
        // waiting_at orders ApprovalWaiting messages (UTC ticks: two can fall in one millisecond);
        // NULL until the first one, so any message beats the implicit "waiting" of a new approval.
        new(3, "agent waiting, collect-by and lapsed", """
            ALTER TABLE approvals ADD COLUMN agent_waiting INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE approvals ADD COLUMN waiting_at INTEGER;
            ALTER TABLE approvals ADD COLUMN collect_by INTEGER;
            ALTER TABLE approvals ADD COLUMN lapsed_at INTEGER;
            CREATE INDEX ix_approvals_awaiting_collection ON approvals (collect_by)
                WHERE status = 'Approved' AND succeeded IS NULL AND collect_by IS NOT NULL;
            """),
        new(4, "time-boxed grants", """
            ALTER TABLE approvals ADD COLUMN grant_id TEXT;
            ALTER TABLE approvals ADD COLUMN grant_until INTEGER;
            CREATE TABLE grants (
                id TEXT PRIMARY KEY,
                grant_created TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                ended_at INTEGER,
                end_reason TEXT,
                ended_by TEXT,
                end_comment TEXT
            );
            CREATE INDEX ix_grants_open ON grants (expires_at) WHERE ended_at IS NULL;
            CREATE INDEX ix_grants_created ON grants (created_at);
            """),
        new(5, "edit then approve", """
            ALTER TABLE approvals ADD COLUMN edited_arguments TEXT;
            """),
        new(6, "escalation", """
            ALTER TABLE approvals ADD COLUMN escalated_at INTEGER;
            ALTER TABLE approvals ADD COLUMN escalated_to TEXT;
            """),
        new(7, "replicas", ReplicasSql),
    ];

    // Shared replicas post each card once: the replica whose insert of the request won claims the
    // posting (post_claimed_*), posted_at marks it done, and an abandoned claim can be taken over.
    // bot_replicas holds each replica's heartbeat for /policy status.
    private const string ReplicasSql = """
        ALTER TABLE approvals ADD COLUMN post_claimed_by TEXT;
        ALTER TABLE approvals ADD COLUMN post_claimed_at BIGINT;
        ALTER TABLE approvals ADD COLUMN posted_at BIGINT;
        CREATE TABLE bot_replicas (
            instance TEXT PRIMARY KEY,
            started_at BIGINT NOT NULL,
            last_seen BIGINT NOT NULL
        );
        """;

    /// <summary>
    /// The same versions as <see cref="Migrations"/>, leading to the same tables and columns: BIGINT for
    /// milliseconds and ticks, INTEGER 0/1 flags (so the stores' SQL stays the same), TEXT for JSON.
    /// </summary>
    private static readonly IReadOnlyList<Migration> PostgresMigrations =
    [
        new(1, "read model and cards", """
            CREATE TABLE approvals (
                id TEXT PRIMARY KEY,
                request TEXT NOT NULL,
                tool TEXT NOT NULL,
                status TEXT NOT NULL,
                requested_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                decided_by TEXT,
                comment TEXT,
                resolved_at BIGINT,
                succeeded INTEGER,
                execution_summary TEXT
            );
            CREATE INDEX ix_approvals_status ON approvals (status, requested_at);
            CREATE INDEX ix_approvals_resolved ON approvals (resolved_at);
            CREATE TABLE cards (
                approval_id TEXT NOT NULL,
                channel TEXT NOT NULL,
                reference TEXT NOT NULL,
                PRIMARY KEY (approval_id, channel, reference)
            );
            CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """),
        new(2, "status counts from an index", """
            CREATE INDEX ix_approvals_resolved_status ON approvals (resolved_at, status);
            """),
        new(3, "agent waiting, collect-by and lapsed", """
            ALTER TABLE approvals ADD COLUMN agent_waiting INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE approvals ADD COLUMN waiting_at BIGINT;
            ALTER TABLE approvals ADD COLUMN collect_by BIGINT;
            ALTER TABLE approvals ADD COLUMN lapsed_at BIGINT;
            CREATE INDEX ix_approvals_awaiting_collection ON approvals (collect_by)
                WHERE status = 'Approved' AND succeeded IS NULL AND collect_by IS NOT NULL;
            """),
        new(4, "time-boxed grants", """
            ALTER TABLE approvals ADD COLUMN grant_id TEXT;
            ALTER TABLE approvals ADD COLUMN grant_until BIGINT;
            CREATE TABLE grants (
                id TEXT PRIMARY KEY,
                grant_created TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                ended_at BIGINT,
                end_reason TEXT,
                ended_by TEXT,
                end_comment TEXT
            );
            CREATE INDEX ix_grants_open ON grants (expires_at) WHERE ended_at IS NULL;
            CREATE INDEX ix_grants_created ON grants (created_at);
            """),
        new(5, "edit then approve", """
            ALTER TABLE approvals ADD COLUMN edited_arguments TEXT;
            """),
        new(6, "escalation", """
            ALTER TABLE approvals ADD COLUMN escalated_at BIGINT;
            ALTER TABLE approvals ADD COLUMN escalated_to TEXT;
            """),
        new(7, "replicas", ReplicasSql),
    ];

    private readonly Database _database;

    /// <summary>The bot's SQLite file at <paramref name="path"/>.</summary>
    public BotStore(string path)
        : this(new SqliteDatabase(path))
    {
    }

    /// <param name="replica">This bot's instance id: who claimed a card's posting, whose heartbeat it is.</param>
    public BotStore(Database database, string? replica = null, TimeProvider? time = null)
    {
        _database = database;
        Replica = replica ?? "local";
        _time = time ?? TimeProvider.System;
    }

    private readonly TimeProvider _time;

    /// <summary>
    /// How long a replica's claim to post an approval's cards holds without the posting finishing
    /// (Slack's retries and 429 waits fit well inside); after that another replica may take it over.
    /// </summary>
    public static readonly TimeSpan PostingLease = TimeSpan.FromMinutes(2);

    public string Replica { get; }

    /// <summary>True when every bot replica shares this store (PostgreSQL): then replicas' heartbeats mean something.</summary>
    public bool Shared => _database.SharedByReplicas;

    public Task MigrateAsync(CancellationToken cancellationToken) => _database.MigrateAsync(new MigrationSet(Migrations, PostgresMigrations), cancellationToken);

    private bool IsPostgres => _database.Provider == StorageProvider.Postgres;

    /// <summary>Inserts a new approval; a redelivered request changes nothing. Returns true when it was new.</summary>
    public async Task<bool> AddRequestedAsync(ApprovalRequested request, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            """
            INSERT INTO approvals (id, request, tool, status, requested_at, expires_at)
            VALUES (@Id, @Request, @Tool, 'Pending', @RequestedAt, @ExpiresAt)
            ON CONFLICT DO NOTHING
            """,
            new
            {
                Id = request.ApprovalId.ToString(),
                Request = JsonSerializer.Serialize(request),
                request.Tool,
                RequestedAt = request.RequestedAt.ToUnixTimeMilliseconds(),
                ExpiresAt = request.ExpiresAt.ToUnixTimeMilliseconds(),
            }) == 1;
    }

    /// <summary>
    /// Stores a new approval and claims the posting of its cards for this replica. True when this
    /// replica is to post them: it stored the approval first (with a shared store, of all replicas:
    /// the insert is the one atomic "first"), or the replica that claimed it stopped before it posted
    /// (claim older than <see cref="PostingLease"/>, still pending). A redelivery, or the same message
    /// on another replica, otherwise gets false and posts nothing.
    /// </summary>
    public async Task<bool> ClaimPostingAsync(ApprovalRequested request, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await _database.OpenAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(
            """
            INSERT INTO approvals (id, request, tool, status, requested_at, expires_at, post_claimed_by, post_claimed_at)
            VALUES (@Id, @Request, @Tool, 'Pending', @RequestedAt, @ExpiresAt, @Replica, @Now)
            ON CONFLICT DO NOTHING
            """,
            new
            {
                Id = request.ApprovalId.ToString(),
                Request = JsonSerializer.Serialize(request),
                request.Tool,
                RequestedAt = request.RequestedAt.ToUnixTimeMilliseconds(),
                ExpiresAt = request.ExpiresAt.ToUnixTimeMilliseconds(),
                Replica,
                Now = now,
            });
        if (inserted == 1)
        {
            return true;
        }

        // One conditional UPDATE: of replicas taking over at once, one matches the old claim.
        return await connection.ExecuteAsync(
            """
            UPDATE approvals SET post_claimed_by = @Replica, post_claimed_at = @Now
            WHERE id = @Id AND status = 'Pending' AND posted_at IS NULL AND post_claimed_at < @StaleBefore
            """,
            new { Id = request.ApprovalId.ToString(), Replica, Now = now, StaleBefore = now - (long)PostingLease.TotalMilliseconds }) == 1;
    }

    /// <summary>
    /// True when another replica claimed the posting of this approval's cards and has not finished it
    /// while the approval is still pending: that replica may have died between its claim and its
    /// post, so the request must come back after the lease rather than be dropped.
    /// </summary>
    public async Task<bool> PostingUnfinishedElsewhereAsync(Guid approvalId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(
            new CommandDefinition(
                "SELECT COUNT(*) FROM approvals WHERE id = @Id AND status = 'Pending' AND posted_at IS NULL AND post_claimed_by <> @Replica",
                new { Id = approvalId.ToString(), Replica },
                cancellationToken: cancellationToken)) > 0;
    }

    /// <summary>The channels have had their go at the cards: no other replica takes the posting over.</summary>
    public async Task MarkPostedAsync(Guid approvalId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            "UPDATE approvals SET posted_at = @Now WHERE id = @Id AND posted_at IS NULL",
            new { Id = approvalId.ToString(), Now = _time.GetUtcNow().ToUnixTimeMilliseconds() });
    }

    /// <summary>Records the end state once; returns false for a redelivery or an unknown approval.</summary>
    public async Task<bool> ResolveAsync(ApprovalResolved resolved, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            """
            UPDATE approvals SET status = @Status, decided_by = @By, comment = @Comment, resolved_at = @At, collect_by = @CollectBy,
                grant_id = @GrantId, grant_until = @GrantUntil, edited_arguments = @EditedArguments
            WHERE id = @Id AND status = 'Pending'
            """,
            new
            {
                Id = resolved.ApprovalId.ToString(),
                resolved.Status,
                By = resolved.By is null ? null : JsonSerializer.Serialize(resolved.By),
                resolved.Comment,
                At = resolved.ResolvedAt.ToUnixTimeMilliseconds(),
                CollectBy = resolved.CollectBy?.ToUnixTimeMilliseconds(),
                GrantId = resolved.GrantId?.ToString(),
                GrantUntil = resolved.GrantUntil?.ToUnixTimeMilliseconds(),
                resolved.EditedArguments,
            }) == 1;
    }

    /// <summary>
    /// Records whether the agent is waiting, unless a newer (or the same) message was stored already.
    /// <see cref="ReadModelChange.Changed"/> only when a pending card would now read differently.
    /// </summary>
    public async Task<ReadModelChange> RecordWaitingAsync(ApprovalWaiting waiting, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        // Read and write in one (immediate) transaction: two messages of one approval may be consumed at once.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var id = waiting.ApprovalId.ToString();
        // PostgreSQL's transactions do not lock what they read: FOR UPDATE makes the second message wait for the first.
        var row = await connection.QuerySingleOrDefaultAsync<WaitingRow>(
            "SELECT status AS Status, agent_waiting AS AgentWaiting, waiting_at AS WaitingAt FROM approvals WHERE id = @id" + (IsPostgres ? " FOR UPDATE" : ""),
            new { id }, transaction);
        if (row is null)
        {
            return ReadModelChange.NotYetKnown;
        }

        var at = waiting.At.UtcTicks;
        if (row.WaitingAt is { } stored && stored >= at)
        {
            return ReadModelChange.Unchanged; // redelivered, or overtaken by a newer one
        }

        // The time advances even when the value stays: an older message arriving later must still lose.
        await connection.ExecuteAsync(
            "UPDATE approvals SET agent_waiting = @Waiting, waiting_at = @at WHERE id = @id",
            new { id, Waiting = waiting.AgentWaiting ? 1 : 0, at }, transaction);
        await transaction.CommitAsync(cancellationToken);
        return row.AgentWaiting != waiting.AgentWaiting && row.Status == nameof(ApprovalStatus.Pending)
            ? ReadModelChange.Changed
            : ReadModelChange.Unchanged;
    }

    /// <summary>Approved → Lapsed once. <see cref="ReadModelChange.NotYetKnown"/> while the request or its ApprovalResolved has not arrived (the bus retries).</summary>
    public async Task<ReadModelChange> RecordLapsedAsync(ApprovalLapsed lapsed, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var id = lapsed.ApprovalId.ToString();
        var updated = await connection.ExecuteAsync(
            "UPDATE approvals SET status = 'Lapsed', lapsed_at = @At WHERE id = @id AND status = 'Approved' AND succeeded IS NULL",
            new { id, At = lapsed.LapsedAt.ToUnixTimeMilliseconds() });
        if (updated == 1)
        {
            return ReadModelChange.Changed;
        }

        var status = await connection.QuerySingleOrDefaultAsync<string>("SELECT status FROM approvals WHERE id = @id", new { id });
        return status is null or nameof(ApprovalStatus.Pending) ? ReadModelChange.NotYetKnown : ReadModelChange.Unchanged;
    }

    /// <summary>
    /// Escalated once: the request's approvers become the gateway's new list (so the bot's own check
    /// lets the escalation approvers decide) and the escalation is remembered for the cards.
    /// </summary>
    public async Task<ReadModelChange> RecordEscalatedAsync(ApprovalEscalated escalated, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var id = escalated.ApprovalId.ToString();
        var updated = await connection.ExecuteAsync(
            $"""
            UPDATE approvals SET request = {(IsPostgres ? "jsonb_set(request::jsonb, '{Approvers}', @Approvers::jsonb)::text" : "json_set(request, '$.Approvers', json(@Approvers))")},
                escalated_at = @At, escalated_to = @Added
            WHERE id = @id AND escalated_at IS NULL
            """,
            new
            {
                id,
                Approvers = JsonSerializer.Serialize(escalated.Approvers),
                Added = JsonSerializer.Serialize(escalated.Added),
                At = escalated.EscalatedAt.ToUnixTimeMilliseconds(),
            });
        if (updated == 1)
        {
            return ReadModelChange.Changed;
        }

        var known = await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM approvals WHERE id = @id", new { id });
        return known == 0 ? ReadModelChange.NotYetKnown : ReadModelChange.Unchanged;
    }

    /// <summary>A quorum vote on a still pending approval: remembered as its latest approver, for the cards' progress line.</summary>
    public async Task<bool> RecordVoteAsync(ApprovalVoted voted, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "UPDATE approvals SET decided_by = @By WHERE id = @Id AND status = 'Pending' AND (decided_by IS NULL OR decided_by <> @By)",
            new { Id = voted.ApprovalId.ToString(), By = JsonSerializer.Serialize(voted.By) }) == 1;
    }

    public async Task<bool> RecordExecutionAsync(ApprovalExecuted executed, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "UPDATE approvals SET succeeded = @Succeeded, execution_summary = @Summary WHERE id = @Id AND succeeded IS NULL",
            new { Id = executed.ApprovalId.ToString(), Succeeded = executed.Succeeded ? 1 : 0, executed.Summary }) == 1;
    }

    public async Task<ApprovalView?> GetAsync(Guid approvalId, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<Row>(Select + " WHERE id = @Id", new { Id = approvalId.ToString() });
        return row?.ToView();
    }

    public async Task<IReadOnlyList<ApprovalView>> ListAsync(ApprovalStatus? status, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        // The status condition only when there is one: SQLite cannot use the index for "(@Status IS NULL OR
        // status = @Status)" and sorts the whole table (about 30 ms at 100,000 approvals; this way well under 1 ms).
        var rows = await connection.QueryAsync<Row>(
            Select + (status is null ? "" : " WHERE status = @Status") + " ORDER BY requested_at LIMIT @limit",
            new { Status = status?.ToString(), limit });
        return rows.Select(r => r.ToView()).ToList();
    }

    /// <summary>Approved while nobody waited and not collected yet, the soonest to lapse first.</summary>
    public async Task<IReadOnlyList<ApprovalView>> ListAwaitingCollectionAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(
            Select + " WHERE " + AwaitingCollection + " ORDER BY collect_by LIMIT @limit", new { limit });
        return rows.Select(r => r.ToView()).ToList();
    }

    public async Task<int> CountAwaitingCollectionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM approvals WHERE " + AwaitingCollection);
    }

    public async Task<int> CountAsync(ApprovalStatus status, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM approvals WHERE status = @Status", new { Status = status.ToString() });
    }

    /// <summary>Human outcomes resolved since <paramref name="since"/>, by status.</summary>
    public async Task<IReadOnlyDictionary<string, int>> CountResolvedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Status, int Count)>(
            // "+status" keeps the planner from walking the whole status index to group: it reads today's
            // range of ix_approvals_resolved_status instead (about 170 ms → 4 ms at 100,000 approvals).
            // PostgreSQL has no unary plus on text (nor needs the hint).
            "SELECT status, COUNT(*) FROM approvals WHERE resolved_at >= @Since GROUP BY " + (IsPostgres ? "status" : "+status"),
            new { Since = since.ToUnixTimeMilliseconds() });
        return rows.ToDictionary(r => r.Status, r => r.Count);
    }

    public async Task SaveAsync(Guid approvalId, string channel, string reference, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            "INSERT INTO cards (approval_id, channel, reference) VALUES (@Id, @channel, @reference) ON CONFLICT DO NOTHING",
            new { Id = approvalId.ToString(), channel, reference });
    }

    public async Task<IReadOnlyList<string>> GetAsync(Guid approvalId, string channel, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return (await connection.QueryAsync<string>(
            "SELECT reference FROM cards WHERE approval_id = @Id AND channel = @channel", new { Id = approvalId.ToString(), channel })).ToList();
    }

    public async Task SetSettingAsync(string key, string value, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync("INSERT INTO settings (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = excluded.value", new { key, value });
    }

    public async Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<string>("SELECT value FROM settings WHERE key = @key", new { key });
    }

    private const string Select = """
        SELECT request AS Request, status AS Status, decided_by AS DecidedBy, comment AS Comment, resolved_at AS ResolvedAt,
               succeeded AS Succeeded, execution_summary AS ExecutionSummary, agent_waiting AS AgentWaiting, collect_by AS CollectBy,
               grant_id AS GrantId, grant_until AS GrantUntil, edited_arguments AS EditedArguments,
               escalated_at AS EscalatedAt, escalated_to AS EscalatedTo
        FROM approvals
        """;

    /// <summary>Matches ix_approvals_awaiting_collection's condition, so the partial index serves it.</summary>
    private const string AwaitingCollection = "status = 'Approved' AND succeeded IS NULL AND collect_by IS NOT NULL";

    private sealed class WaitingRow
    {
        public string Status { get; init; } = "";
        public bool AgentWaiting { get; init; }
        public long? WaitingAt { get; init; }
    }

    private sealed class Row
    {
        public string Request { get; init; } = "";
        public string Status { get; init; } = "";
        public string? DecidedBy { get; init; }
        public string? Comment { get; init; }
        public long? ResolvedAt { get; init; }
        public bool? Succeeded { get; init; }
        public string? ExecutionSummary { get; init; }
        public bool AgentWaiting { get; init; } = true;
        public long? CollectBy { get; init; }
        public string? GrantId { get; init; }
        public long? GrantUntil { get; init; }
        public string? EditedArguments { get; init; }
        public long? EscalatedAt { get; init; }
        public string? EscalatedTo { get; init; }

        public ApprovalView ToView() => new(
            JsonSerializer.Deserialize<ApprovalRequested>(Request)!,
            Enum.Parse<ApprovalStatus>(Status),
            DecidedBy is null ? null : JsonSerializer.Deserialize<Approver>(DecidedBy),
            Comment,
            ResolvedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(ResolvedAt.Value),
            Succeeded,
            ExecutionSummary,
            AgentWaiting,
            CollectBy is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(CollectBy.Value),
            GrantId is null ? null : Guid.Parse(GrantId),
            GrantUntil is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(GrantUntil.Value),
            EditedArguments,
            EscalatedAt is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(EscalatedAt.Value),
            EscalatedTo is null ? null : JsonSerializer.Deserialize<string[]>(EscalatedTo));
    }
}

/// <summary>What a bus message did to the read model; only <see cref="Changed"/> reaches the channels.</summary>
internal enum ReadModelChange
{
    /// <summary>The approval (or the state the message follows) has not arrived yet: let the bus retry.</summary>
    NotYetKnown,

    /// <summary>Redelivered, older than what is stored, or nothing a card shows.</summary>
    Unchanged,

    Changed,
}
