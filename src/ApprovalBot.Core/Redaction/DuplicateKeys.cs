using System.Globalization;
using System.Text.Json;

namespace ApprovalBot.Core.Redaction;

/// <summary>
/// Finds a repeated property name anywhere in tool-call arguments (<c>{"o": {"a": 1, "a": 2}}</c>).
/// JSON readers disagree on which duplicate wins, so what an approver is shown and what the upstream
/// acts on could differ: such arguments are refused before anything is decided.
/// </summary>
public static class DuplicateKeys
{
    /// <summary>The path of the first repeated name (<c>arguments.o.a</c>), or null when every object's names are distinct.</summary>
    public static string? Find(IEnumerable<KeyValuePair<string, JsonElement>>? arguments)
    {
        if (arguments is null)
        {
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in arguments)
        {
            var path = "arguments." + name;
            if (!seen.Add(name))
            {
                return path;
            }

            if (Find(value, path) is { } nested)
            {
                return nested;
            }
        }

        return null;
    }

    /// <summary>The path of the first repeated name inside <paramref name="element"/>, or null.</summary>
    public static string? Find(JsonElement element, string path = "$")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    var child = path + "." + property.Name;
                    if (!seen.Add(property.Name))
                    {
                        return child;
                    }

                    if (Find(property.Value, child) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Find(item, path + "[" + index.ToString(CultureInfo.InvariantCulture) + "]") is { } nested)
                    {
                        return nested;
                    }

                    index++;
                }

                return null;
            default:
                return null;
        }
    }
}
