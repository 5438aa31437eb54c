using System.Text.Json.Serialization;

namespace ApprovalBot.Bot.WebConsole;

/// <summary>The body of a console API decision: an optional comment.</summary>
internal sealed record DecisionBody([property: JsonPropertyName("comment")] string? Comment);
