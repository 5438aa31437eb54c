namespace ApprovalBot.Bot.WebConsole;

/// <summary>What the console API returns per grant (<c>GET /api/grants</c>).</summary>
/// <param name="Scope"><c>tool</c> (every call of the agent to the tool) or <c>arguments</c> (only the approved arguments).</param>
/// <param name="State">"active", "expired", "revoked by X", "ended: its rule changed" …</param>
internal sealed record GrantDto(
    Guid Id,
    Guid ApprovalId,
    string Agent,
    string Tool,
    string Upstream,
    string Rule,
    string Scope,
    string GrantedBy,
    string GrantedByPrincipal,
    string Channel,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    bool Active,
    string State,
    DateTimeOffset? EndedAt,
    string? EndReason,
    string? EndedBy,
    string? Comment,
    string Gateway);
