using System.Globalization;
using System.Text;

namespace ApprovalBot.Core.Policy;

/// <summary>
/// Builds JSON paths for error messages. Convention: <c>$</c> is the document; a key made only of
/// <c>[A-Za-z0-9_]</c> is appended as <c>.key</c>, any other key as <c>["key"]</c> (JSON-escaped);
/// array items as <c>[index]</c>. E.g. <c>$.rules["awx_list_*"].approvers[0]</c>.
/// </summary>
internal static class JsonPath
{
    public const string Root = "$";

    public static string Property(string parent, string name) =>
        IsSimple(name) ? parent + "." + name : parent + "[" + PolicyText.Quote(name) + "]";

    public static string Index(string parent, int index) =>
        parent + "[" + index.ToString(CultureInfo.InvariantCulture) + "]";

    private static bool IsSimple(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Quoting and "did you mean" hints for error messages.</summary>
internal static class PolicyText
{
    /// <summary>A JSON string literal, escaping only what JSON requires (keeps <c>*</c>, <c>+</c>, non-ASCII readable).</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < ' ')
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    /// <summary><c>"a", "b" or "c"</c>.</summary>
    public static string QuotedList(IReadOnlyList<string> values)
    {
        if (values.Count == 1)
        {
            return Quote(values[0]);
        }

        var quoted = values.Select(Quote).ToArray();
        return string.Join(", ", quoted[..^1]) + " or " + quoted[^1];
    }

    /// <summary><c>; did you mean "x"?</c> when one of <paramref name="known"/> is a likely typo of <paramref name="actual"/>, else empty.</summary>
    public static string Hint(string actual, IEnumerable<string> known)
    {
        var best = Closest(actual, known);
        return best is null ? string.Empty : $"; did you mean {Quote(best)}?";
    }

    /// <summary>
    /// The known word closest to <paramref name="actual"/>, comparing case-insensitively and ignoring
    /// <c>_</c> and <c>-</c> (so <c>approvalsRequired</c> finds <c>approvals_required</c>); null when
    /// nothing is close enough to be a plausible typo.
    /// </summary>
    public static string? Closest(string actual, IEnumerable<string> known)
    {
        var a = Normalize(actual);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            if (string.Equals(candidate, actual, StringComparison.Ordinal))
            {
                continue;
            }

            var c = Normalize(candidate);
            var distance = Levenshtein(a, c);
            // Why: short words are all "close" to each other; allow one edit below 5 characters, two above.
            var allowed = c.Length < 5 ? 1 : 2;
            if (distance <= allowed && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    private static string Normalize(string s) =>
        new(s.Where(c => c != '_' && c != '-').Select(char.ToLowerInvariant).ToArray());

    private static int Levenshtein(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2)
        {
            return int.MaxValue;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
