using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>Edit, then approve: the approval and the edit it is bound to change in one conditional UPDATE.</summary>
public sealed partial class GatewayStore
{
    /// <summary>Pending → Approved with the approver's edit and its digest, or nothing (someone decided first).</summary>
    public async Task<bool> TryApproveWithEditAsync(
        Guid id, DateTimeOffset at, string decidedBy, string? decidedByName, string channel, string? comment, string editedArguments, string editedDigest,
        CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(
            $"""
            UPDATE approvals SET status = 'Approved', {DecisionColumns}, edited_arguments = @EditedArguments, edited_digest = @EditedDigest,
                approved_by = {AppendToJsonList("approved_by", "@DecidedBy")}
            WHERE id = @Id AND status = 'Pending'
            """,
            new
            {
                Id = id.ToString(),
                At = at.ToUnixTimeMilliseconds(),
                DecidedBy = decidedBy,
                DecidedByName = decidedByName,
                Channel = channel,
                Comment = comment,
                EditedArguments = editedArguments,
                EditedDigest = editedDigest,
            }) == 1;
    }
}
