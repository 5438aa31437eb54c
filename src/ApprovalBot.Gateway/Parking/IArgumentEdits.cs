using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Parking;

/// <summary>
/// Checks an approver's edit of an approval's arguments: merged with what the card showed, valid
/// against the tool's inputSchema, and still decided by the same rule (or allowed) when the policy
/// is asked again. The implementation is <c>Enforcement/ArgumentEdits</c>.
/// </summary>
public interface IArgumentEdits
{
    Task<EditCheck> CheckAsync(ApprovalRecord approval, string editedArguments, CancellationToken cancellationToken);
}

/// <summary>The verdict on an edit.</summary>
/// <param name="Edit">The edit to store, compact and secret-free (masked values stay masked).</param>
/// <param name="Digest">The digest the approval is bound with from now on.</param>
/// <param name="Unchanged">The edit reads as the card showed the original: approve as asked.</param>
public sealed record EditCheck(string? Error, string? Edit = null, string? Digest = null, bool Unchanged = false)
{
    public static EditCheck Refused(string error) => new(error);
}
