namespace ApprovalBot.Bot.WebConsole;

/// <summary>Bound from <c>ApprovalBot:Console</c>.</summary>
public sealed record ConsoleOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>Bearer token for the console API; generated and printed at start when empty.</summary>
    public string? AdminToken { get; init; }

    /// <summary>
    /// A bot running apart from its gateway: the gateway's base URL, to which the console forwards
    /// the audit API and timelines (the gateway owns the audit). Not needed in role all.
    /// </summary>
    public string? GatewayUrl { get; init; }
}
