using System.Text.Json;
using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>Escalation and reminders: each happens once per approval (a conditional UPDATE on the pending row).</summary>
public sealed partial class GatewayStore
{
    /// <summary>Pending approvals whose escalation is due and has not happened.</summary>
    public async Task<IReadOnlyList<ApprovalRecord>> ListEscalationsDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ApprovalRow>(
            SelectApproval + " WHERE status = 'Pending' AND escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= @Now",
            new { Now = now.ToUnixTimeMilliseconds() });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    /// <summary>Escalates once: the new approvers list, only while still pending and not escalated.</summary>
    public async Task<bool> TryEscalateAsync(Guid id, IReadOnlyList<string> approvers, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "UPDATE approvals SET approvers = @Approvers, escalated_at = @At WHERE id = @Id AND status = 'Pending' AND escalated_at IS NULL",
            new { Id = id.ToString(), Approvers = JsonSerializer.Serialize(approvers), At = at.ToUnixTimeMilliseconds() }) == 1;
    }

    /// <summary>Approvals that live this long or longer get a reminder; shorter ones would only add noise.</summary>
    public static readonly TimeSpan RemindFrom = TimeSpan.FromMinutes(5);

    /// <summary>Pending approvals in the last fifth of their life (of at least <see cref="RemindFrom"/>) that were not reminded yet.</summary>
    public async Task<IReadOnlyList<ApprovalRecord>> ListRemindersDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ApprovalRow>(
            SelectApproval + " WHERE status = 'Pending' AND reminded_at IS NULL AND expires_at > @Now AND (expires_at - @Now) * 5 <= (expires_at - requested_at) AND expires_at - requested_at >= @Minimum",
            new { Now = now.ToUnixTimeMilliseconds(), Minimum = (long)RemindFrom.TotalMilliseconds });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> TryMarkRemindedAsync(Guid id, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            "UPDATE approvals SET reminded_at = @At WHERE id = @Id AND status = 'Pending' AND reminded_at IS NULL",
            new { Id = id.ToString(), At = at.ToUnixTimeMilliseconds() }) == 1;
    }
}
