using System.Text.Json.Serialization;

namespace ApprovalBot.Bot.WebConsole;

/// <summary>The body of a console API decision: an optional comment; approve may add a grant duration ("1h": approve for a while).</summary>
internal sealed record DecisionBody(
    [property: JsonPropertyName("comment")] string? Comment,
    [property: JsonPropertyName("grant")] string? Grant = null);
