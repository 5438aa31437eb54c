namespace ApprovalBot.Gateway.Audit;

/// <summary>
/// The audit trail's vocabulary, as the API, the CLI and the exports spell it. The table stores a
/// human denial as <c>denied</c> on an approval; readers see it as <see cref="DeniedByHuman"/> so a
/// filter on <c>denied</c> means "refused by policy" only.
/// </summary>
public static class AuditDecisions
{
    public const string DeniedByHuman = "denied_by_human";
    public const string CardPosted = "card_posted";

    /// <summary>Decisions the gateway takes on a call by itself (policy, rate limits, catalogue).</summary>
    public static readonly IReadOnlyList<string> Enforcement =
    [
        "allowed", "denied", "hidden", "unknown", "rate_limited", "invalid_arguments", "upstream_unavailable", "approval_cap",
        "shadow_denied", "shadow_held", "allowed_by_grant",
    ];

    /// <summary>What happens to an approval, from the request to the execution.</summary>
    public static readonly IReadOnlyList<string> Lifecycle =
    [
        "held", "held_duplicate", "handed_back", "redeemed", "claimed", "outcome_repeated", "approval_counted", "decision_refused",
        "approved", DeniedByHuman, "expired", "cancelled", "lapsed", "executed", "execution_failed", CardPosted,
        "grant_created", "grant_revoked", "grant_expired", "grant_rule_removed", "grant_rule_changed", "revoke_refused",
        "arguments_edited", "edit_refused", "escalated", "reminded",
    ];

    public static readonly IReadOnlySet<string> All = Enforcement.Concat(Lifecycle).ToHashSet(StringComparer.Ordinal);

    /// <summary>As a reader sees a stored row.</summary>
    public static string Present(string stored, bool onApproval) =>
        stored == "denied" && onApproval ? DeniedByHuman : stored;
}
