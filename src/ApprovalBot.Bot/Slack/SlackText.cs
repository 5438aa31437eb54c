using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Slack;

/// <summary>Small helpers for Slack mrkdwn and Block Kit JSON.</summary>
internal static class SlackText
{
    /// <summary>Escapes the three characters Slack treats as control characters in text.</summary>
    public static string Escape(string? text) => Truncate(text ?? "", int.MaxValue, out _);

    /// <summary>Escapes and cuts to at most <paramref name="max"/> characters (escaped), never inside an entity or a surrogate pair.</summary>
    public static string Truncate(string raw, int max, out bool truncated)
    {
        var builder = new StringBuilder(Math.Min(raw.Length, max));
        truncated = false;
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            var piece = c switch { '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", _ => null };
            var length = piece?.Length ?? (char.IsHighSurrogate(c) && i + 1 < raw.Length ? 2 : 1);
            if (builder.Length + length > max)
            {
                truncated = true;
                break;
            }

            if (piece is not null)
            {
                builder.Append(piece);
            }
            else
            {
                builder.Append(raw, i, length);
                i += length - 1;
            }
        }

        return builder.ToString();
    }

    /// <summary>Escaped and cut with an ellipsis when longer than <paramref name="max"/>.</summary>
    public static string Short(string? raw, int max)
    {
        var text = Truncate(raw ?? "", max - 1, out var truncated);
        return truncated ? text + "…" : text;
    }

    /// <summary>Plain text (not mrkdwn): only the length matters.</summary>
    public static string Plain(string? raw, int max)
    {
        raw ??= "";
        if (raw.Length <= max)
        {
            return raw;
        }

        var cut = max - 1;
        if (cut > 0 && char.IsHighSurrogate(raw[cut - 1]))
        {
            cut--;
        }

        return raw[..cut] + "…";
    }

    /// <summary>Slack's localised date token: shows in each reader's time zone, with a UTC fallback.</summary>
    public static string Date(DateTimeOffset at) =>
        $"<!date^{at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}^{{date_short_pretty}} {{time}}|{at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC>";

    /// <summary><c>slack:U123</c> becomes a mention; anything else is shown as written.</summary>
    public static string Principal(string principal) =>
        principal.StartsWith("slack:", StringComparison.Ordinal) && principal.Length > 6 && IsSlackId(principal.AsSpan(6))
            ? $"<@{principal[6..]}>"
            : $"`{Escape(principal.Replace("`", "'", StringComparison.Ordinal))}`";

    public static string Who(Approver? approver) => approver switch
    {
        null => "nobody",
        { Platform: "slack" } when IsSlackId(approver.UserId) => $"<@{approver.UserId}>",
        _ => $"{Escape(approver.DisplayName)} ({Escape(approver.Platform)})",
    };

    public static JsonObject PlainText(string text, int max = 3000, bool emoji = true) =>
        new() { ["type"] = "plain_text", ["text"] = Plain(text, max), ["emoji"] = emoji };

    public static JsonObject Mrkdwn(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };

    public static JsonObject Header(string text) => new() { ["type"] = "header", ["text"] = PlainText(text, 150) };

    public static JsonObject Section(string mrkdwn, string? blockId = null)
    {
        var section = new JsonObject { ["type"] = "section", ["text"] = Mrkdwn(mrkdwn) };
        if (blockId is not null)
        {
            section["block_id"] = blockId;
        }

        return section;
    }

    public static JsonObject Fields(params string[] fields) =>
        new() { ["type"] = "section", ["fields"] = new JsonArray(fields.Select(f => (JsonNode)Mrkdwn(f)).ToArray()) };

    public static JsonObject Context(params string[] elements) =>
        new() { ["type"] = "context", ["elements"] = new JsonArray(elements.Select(e => (JsonNode)Mrkdwn(e)).ToArray()) };

    public static JsonObject Divider() => new() { ["type"] = "divider" };

    private static bool IsSlackId(ReadOnlySpan<char> id)
    {
        if (id.Length is < 2 or > 32)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterUpper(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
