namespace ApprovalBot.Core.Contracts;

/// <summary>A person who decided, as the channel identified them.</summary>
/// <param name="Platform">slack, teams or console.</param>
/// <param name="UserId">The platform's stable id (Slack user id, Entra object id, console name).</param>
/// <param name="DisplayName">For humans only; never used to authorize.</param>
/// <param name="TenantId">Slack team id or Entra tenant id, when the platform has one.</param>
public sealed record Approver(string Platform, string UserId, string DisplayName, string? TenantId = null)
{
    /// <summary>The form used in policy <c>approvers</c> lists, e.g. <c>slack:U024BE7LH</c>.</summary>
    public string Principal => $"{Platform}:{UserId}";
}
