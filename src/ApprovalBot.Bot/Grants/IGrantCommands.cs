using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Grants;

/// <summary>
/// Sends a revocation to the gateway that owns the grant and returns its answer ("Grant revoked …",
/// "already ended …", "may not revoke …"). Channels call only this.
/// </summary>
public interface IGrantCommands
{
    Task<GrantRevokeOutcome> RevokeAsync(GrantRevokeCommand command, CancellationToken cancellationToken);
}
