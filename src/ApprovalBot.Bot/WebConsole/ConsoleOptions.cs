namespace ApprovalBot.Bot.WebConsole;

/// <summary>Bound from <c>ApprovalBot:Console</c>.</summary>
public sealed record ConsoleOptions
{
    public bool Enabled { get; init; } = true;

    /// <summary>Bearer token for the console API; generated and printed at start when empty.</summary>
    public string? AdminToken { get; init; }
}
