using System.Text.Json;

namespace ApprovalBot.Bot.Slack;

/// <summary>Reads Slack's payloads (interactions, slash commands over Socket Mode, events, envelopes, Web API answers).</summary>
internal static class SlackJson
{
    /// <summary>The string at <paramref name="path"/> (<c>"user", "id"</c>); null when any step is missing or not an object, or the value is not a string.</summary>
    public static string? ReadString(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }
}
