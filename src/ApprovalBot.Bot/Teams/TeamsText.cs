using System.Globalization;
using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// Small helpers for Adaptive Card JSON (version 1.5, the highest Teams renders) and the message
/// activities that carry them. Text that comes from agents, upstream servers or people goes into
/// <see cref="Literal"/> (a <c>TextRun</c>, which Teams shows literally); markdown-rendering
/// <c>TextBlock</c>s carry only the bot's own words and facts with link syntax broken
/// (<see cref="NoLinks"/>), so an argument cannot dress itself up as a link.
/// </summary>
internal static class TeamsText
{
    public const string ContentType = "application/vnd.microsoft.card.adaptive";
    public const string Schema = "http://adaptivecards.io/schemas/adaptive-card.json";
    public const string Version = "1.5";

    /// <summary>A message activity carrying one Adaptive Card.</summary>
    public static JsonObject Activity(JsonObject card, string? summary = null)
    {
        var activity = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["contentType"] = ContentType, ["content"] = card },
            },
        };
        if (summary is not null)
        {
            activity["summary"] = Truncate(summary, 250);
        }

        return activity;
    }

    public static JsonObject Card(JsonArray body, string fallbackText) => new()
    {
        ["$schema"] = Schema,
        ["type"] = "AdaptiveCard",
        ["version"] = Version,
        ["fallbackText"] = NoLinks(Truncate(fallbackText, 300)),
        ["body"] = body,
    };

    public static JsonObject Heading(string text, string? color = null, string size = "Medium")
    {
        var block = new JsonObject { ["type"] = "TextBlock", ["text"] = text, ["weight"] = "Bolder", ["size"] = size, ["wrap"] = true };
        if (color is not null and not "Default")
        {
            block["color"] = color;
        }

        return block;
    }

    public static JsonObject Label(string text) =>
        new() { ["type"] = "TextBlock", ["text"] = text, ["weight"] = "Bolder", ["wrap"] = true, ["spacing"] = "Medium" };

    public static JsonObject Note(string text) =>
        new() { ["type"] = "TextBlock", ["text"] = NoLinks(text), ["isSubtle"] = true, ["size"] = "Small", ["wrap"] = true };

    /// <summary>Text shown exactly as given (a TextRun is never read as markdown).</summary>
    public static JsonObject Literal(string text, bool bold = false, bool italic = false, string? size = null, string? color = null, bool monospace = false)
    {
        var run = new JsonObject { ["type"] = "TextRun", ["text"] = text };
        if (bold)
        {
            run["weight"] = "Bolder";
        }

        if (italic)
        {
            run["italic"] = true;
        }

        if (size is not null)
        {
            run["size"] = size;
        }

        if (color is not null)
        {
            run["color"] = color;
        }

        if (monospace)
        {
            run["fontType"] = "Monospace";
        }

        return new JsonObject { ["type"] = "RichTextBlock", ["inlines"] = new JsonArray(run) };
    }

    public static JsonObject FactSet(IEnumerable<(string Title, string Value)> facts)
    {
        var array = new JsonArray();
        foreach (var (title, value) in facts)
        {
            array.Add(new JsonObject { ["title"] = title, ["value"] = NoLinks(Truncate(value, 500)) });
        }

        return new JsonObject { ["type"] = "FactSet", ["facts"] = array };
    }

    /// <summary>Breaks markdown link syntax (<c>[text](url)</c>) so a value cannot hide a link behind other words.</summary>
    public static string NoLinks(string text) => text.Replace("](", "]\u200B(", StringComparison.Ordinal);

    public static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    public static string Short(string text, int length) => text.Length <= length ? text : text[..length];

    /// <summary>"2025-06-02 09:30:00 UTC".</summary>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
