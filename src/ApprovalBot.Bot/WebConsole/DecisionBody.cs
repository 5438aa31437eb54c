using System.Text.Json.Serialization;

namespace ApprovalBot.Bot.WebConsole;

/// <summary>
/// The body of a console API decision: an optional comment; approve may add a grant duration ("1h":
/// approve for a while) or edited arguments (a JSON object: edit, then approve).
/// </summary>
internal sealed record DecisionBody(
    [property: JsonPropertyName("comment")] string? Comment,
    [property: JsonPropertyName("grant")] string? Grant = null,
    [property: JsonPropertyName("arguments")] System.Text.Json.JsonElement? Arguments = null);
