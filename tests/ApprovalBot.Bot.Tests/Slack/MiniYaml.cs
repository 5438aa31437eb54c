using System.Globalization;
using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>
/// Just enough YAML for the app manifests: block mappings and sequences by indentation, sequences
/// of scalars or of mappings, plain / single- / double-quoted scalars, booleans, integers, comments.
/// Anything else (flow collections, anchors, multi-line scalars) is refused rather than misread.
/// </summary>
public static class MiniYaml
{
    public static JsonNode? Parse(string text)
    {
        var lines = new List<(int Indent, string Content)>();
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            var trimmed = raw.TrimStart(' ');
            if (trimmed.Length == 0 || trimmed.StartsWith('#') || trimmed == "---")
            {
                continue;
            }

            if (trimmed.StartsWith('\t') || raw.Contains('\t', StringComparison.Ordinal))
            {
                throw new FormatException("Tabs are not allowed in YAML indentation.");
            }

            lines.Add((raw.Length - trimmed.Length, trimmed.TrimEnd()));
        }

        var i = 0;
        if (lines.Count == 0)
        {
            return null;
        }

        var node = Block(lines, ref i, lines[0].Indent);
        return i == lines.Count ? node : throw new FormatException($"Unexpected line: {lines[i].Content}");
    }

    private static JsonNode Block(List<(int Indent, string Content)> lines, ref int i, int indent) =>
        IsItem(lines[i].Content) ? Sequence(lines, ref i, indent) : Mapping(lines, ref i, indent);

    private static JsonObject Mapping(List<(int Indent, string Content)> lines, ref int i, int indent)
    {
        var map = new JsonObject();
        while (i < lines.Count && lines[i].Indent == indent && !IsItem(lines[i].Content))
        {
            var (key, rest) = SplitKey(lines[i].Content) ?? throw new FormatException($"Expected 'key: value': {lines[i].Content}");
            i++;
            if (rest.Length > 0)
            {
                map.Add(key, Scalar(rest));
            }
            else if (i < lines.Count && (lines[i].Indent > indent || (lines[i].Indent == indent && IsItem(lines[i].Content))))
            {
                map.Add(key, Block(lines, ref i, lines[i].Indent));
            }
            else
            {
                map.Add(key, null);
            }
        }

        if (i < lines.Count && lines[i].Indent > indent)
        {
            throw new FormatException($"Bad indentation: {lines[i].Content}");
        }

        return map;
    }

    private static JsonArray Sequence(List<(int Indent, string Content)> lines, ref int i, int indent)
    {
        var list = new JsonArray();
        while (i < lines.Count && lines[i].Indent == indent && IsItem(lines[i].Content))
        {
            var item = lines[i].Content[1..].TrimStart(' ');
            if (item.Length == 0)
            {
                i++;
                list.Add(Block(lines, ref i, lines[i].Indent));
            }
            else if (SplitKey(item) is not null)
            {
                // "- key: value" starts a mapping whose keys line up with "key".
                lines[i] = (indent + (lines[i].Content.Length - item.Length), item);
                list.Add(Mapping(lines, ref i, lines[i].Indent));
            }
            else
            {
                list.Add(Scalar(item));
                i++;
            }
        }

        return list;
    }

    private static bool IsItem(string content) => content == "-" || content.StartsWith("- ", StringComparison.Ordinal);

    private static (string Key, string Value)? SplitKey(string content)
    {
        if (content.StartsWith('"') || content.StartsWith('\''))
        {
            return null;
        }

        var colon = content.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0)
        {
            return (content[..colon], content[(colon + 2)..].Trim());
        }

        return content.EndsWith(':') ? (content[..^1], "") : null;
    }

    private static JsonNode? Scalar(string text)
    {
        if (text.StartsWith('"'))
        {
            var end = text.LastIndexOf('"');
            return JsonValue.Create(JsonNode.Parse(text[..(end + 1)])!.GetValue<string>());
        }

        if (text.StartsWith('\''))
        {
            var end = text.LastIndexOf('\'');
            return JsonValue.Create(text[1..end].Replace("''", "'", StringComparison.Ordinal));
        }

        var comment = text.IndexOf(" #", StringComparison.Ordinal);
        if (comment >= 0)
        {
            text = text[..comment].TrimEnd();
        }

        if (text.StartsWith('[') || text.StartsWith('{') || text.StartsWith('&') || text.StartsWith('*') || text.StartsWith('|') || text.StartsWith('>'))
        {
            throw new FormatException($"Unsupported YAML: {text}");
        }

        return text switch
        {
            "true" => JsonValue.Create(true),
            "false" => JsonValue.Create(false),
            "null" or "~" => null,
            _ when long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
            _ => JsonValue.Create(text),
        };
    }
}
