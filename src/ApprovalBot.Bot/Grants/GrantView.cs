using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Grants;

/// <summary>The bot's read model of one time-boxed grant: as created, plus how it ended.</summary>
public sealed record GrantView(
    GrantCreated Grant,
    DateTimeOffset? EndedAt = null,
    string? EndReason = null,
    Approver? EndedBy = null,
    string? EndComment = null)
{
    public Guid Id => Grant.GrantId;

    /// <summary>Not ended and not past its expiry (the gateway's sweep may not have reported the expiry yet).</summary>
    public bool IsActive(DateTimeOffset now) => EndedAt is null && Grant.ExpiresAt > now;

    /// <summary>"active", "expired", "revoked by Ada", "ended: its rule was removed from the policy" …</summary>
    public string State(DateTimeOffset now) => EndReason switch
    {
        null when Grant.ExpiresAt > now => "active",
        null or GrantEndReasons.Expired => "expired",
        GrantEndReasons.Revoked => $"revoked by {EndedBy?.DisplayName ?? "someone"}",
        GrantEndReasons.RuleRemoved => "ended: its rule was removed from the policy",
        GrantEndReasons.RuleChanged => "ended: its rule changed",
        var other => "ended: " + other,
    };
}

/// <summary>A click or API call asking to revoke a grant.</summary>
public sealed record GrantRevokeCommand(Guid GrantId, Approver By, string? Comment, string Channel);
