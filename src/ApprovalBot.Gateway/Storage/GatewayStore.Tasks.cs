using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>MCP tasks: durable, scoped to the agent identity, removed after their TTL.</summary>
public sealed partial class GatewayStore
{
    public async Task InsertTaskAsync(TaskRecord task, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            """
            INSERT INTO tasks (id, agent, tool, approval_id, status, status_message, result, created_at, updated_at, ttl_ms, instance)
            VALUES (@Id, @Agent, @Tool, @ApprovalId, @Status, @StatusMessage, @ResultJson, @CreatedAt, @UpdatedAt, @TtlMs, @Instance)
            """,
            new
            {
                task.Id,
                task.Agent,
                task.Tool,
                ApprovalId = task.ApprovalId?.ToString(),
                task.Status,
                task.StatusMessage,
                task.ResultJson,
                CreatedAt = task.CreatedAt.ToUnixTimeMilliseconds(),
                UpdatedAt = task.UpdatedAt.ToUnixTimeMilliseconds(),
                TtlMs = (long)task.Ttl.TotalMilliseconds,
                task.Instance,
            });
    }

    /// <summary>The agent's own task, or null (another agent's task is as good as unknown).</summary>
    public async Task<TaskRecord?> GetTaskAsync(string id, string agent, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<TaskRow>(SelectTask + " WHERE id = @id AND agent = @agent", new { id, agent });
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<TaskRecord>> ListTasksAsync(string agent, DateTimeOffset? before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<TaskRow>(
            SelectTask + " WHERE agent = @agent AND (@before IS NULL OR created_at < @before) ORDER BY created_at DESC LIMIT @limit",
            new { agent, before = before?.ToUnixTimeMilliseconds(), limit });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Records the approval a working task waits for; its TTL grows to at least <paramref name="minimumTtl"/>.</summary>
    public async Task SetTaskApprovalAsync(string id, Guid approvalId, string statusMessage, TimeSpan minimumTtl, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            "UPDATE tasks SET approval_id = @ApprovalId, status_message = @StatusMessage, ttl_ms = CASE WHEN ttl_ms > @MinTtl THEN ttl_ms ELSE @MinTtl END, updated_at = @At WHERE id = @Id AND status = 'working'",
            new { Id = id, ApprovalId = approvalId.ToString(), StatusMessage = statusMessage, MinTtl = (long)minimumTtl.TotalMilliseconds, At = at.ToUnixTimeMilliseconds() });
    }

    /// <summary>Moves a working task to a terminal status; false when it already ended (e.g. cancelled first).</summary>
    public async Task<bool> TryFinishTaskAsync(string id, string status, string? statusMessage, string? resultJson, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "UPDATE tasks SET status = @Status, status_message = @StatusMessage, result = @ResultJson, updated_at = @At WHERE id = @Id AND status = 'working'",
            new { Id = id, Status = status, StatusMessage = statusMessage, ResultJson = resultJson, At = at.ToUnixTimeMilliseconds() }) == 1;
    }

    /// <summary>Working tasks of this instance: their runners died with the previous process.</summary>
    public async Task<IReadOnlyList<TaskRecord>> ListWorkingTasksAsync(string instance, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<TaskRow>(SelectTask + " WHERE status = 'working' AND instance = @instance", new { instance });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>This instance is alive and still runs its working tasks (replicas sharing the store read it as a lease).</summary>
    public async Task TouchWorkingTasksAsync(string instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(
            new CommandDefinition(
                "UPDATE tasks SET updated_at = @Now WHERE status = 'working' AND instance = @instance",
                new { instance, Now = now.ToUnixTimeMilliseconds() },
                cancellationToken: cancellationToken));
    }

    /// <summary>Other instances' working tasks untouched since <paramref name="before"/>: their runner is gone.</summary>
    public async Task<IReadOnlyList<TaskRecord>> ListAbandonedTasksAsync(string instance, DateTimeOffset before, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<TaskRow>(
            new CommandDefinition(
                SelectTask + " WHERE status = 'working' AND instance <> @instance AND updated_at < @Before",
                new { instance, Before = before.ToUnixTimeMilliseconds() },
                cancellationToken: cancellationToken));
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Forgets tasks past their TTL (their results with them).</summary>
    public async Task<int> DeleteExpiredTasksAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync("DELETE FROM tasks WHERE created_at + ttl_ms <= @Now", new { Now = now.ToUnixTimeMilliseconds() });
    }

    private const string SelectTask = """
        SELECT id AS Id, agent AS Agent, tool AS Tool, approval_id AS ApprovalId, status AS Status, status_message AS StatusMessage,
               result AS ResultJson, created_at AS CreatedAt, updated_at AS UpdatedAt, ttl_ms AS TtlMs, instance AS Instance
        FROM tasks
        """;

    private sealed class TaskRow
    {
        public string Id { get; init; } = "";
        public string Agent { get; init; } = "";
        public string Tool { get; init; } = "";
        public string? ApprovalId { get; init; }
        public string Status { get; init; } = "";
        public string? StatusMessage { get; init; }
        public string? ResultJson { get; init; }
        public long CreatedAt { get; init; }
        public long UpdatedAt { get; init; }
        public long TtlMs { get; init; }
        public string Instance { get; init; } = "";

        public TaskRecord ToRecord() => new(
            Id, Agent, Tool, ApprovalId is null ? null : Guid.Parse(ApprovalId), Status, StatusMessage, ResultJson,
            DateTimeOffset.FromUnixTimeMilliseconds(CreatedAt), DateTimeOffset.FromUnixTimeMilliseconds(UpdatedAt),
            TimeSpan.FromMilliseconds(TtlMs), Instance);
    }
}
