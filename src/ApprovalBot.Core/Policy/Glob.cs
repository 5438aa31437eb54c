namespace ApprovalBot.Core.Policy;

/// <summary>
/// A precompiled <c>*</c>/<c>?</c> pattern. Matching is ordinal, case-sensitive and allocation-free
/// (no Regex: a two-pointer matcher with single-star backtracking is linear for typical patterns).
/// </summary>
internal sealed class Glob
{
    private Glob(string pattern)
    {
        Pattern = pattern;
        var firstWildcard = pattern.AsSpan().IndexOfAny('*', '?');
        IsLiteral = firstWildcard < 0;
        LiteralPrefix = IsLiteral ? pattern : pattern[..firstWildcard];
        LiteralCount = pattern.Length - pattern.AsSpan().Count('*') - pattern.AsSpan().Count('?');
    }

    /// <summary>Generous for prefixed MCP tool names (the spec allows 128), and bounds the lookup's recursion depth.</summary>
    public const int MaxToolPatternLength = 512;

    public string Pattern { get; }

    /// <summary>No wildcard: the pattern is an exact name.</summary>
    public bool IsLiteral { get; }

    /// <summary>Characters before the first wildcard: the primary specificity key.</summary>
    public string LiteralPrefix { get; }

    /// <summary>Non-wildcard characters in the whole pattern: the secondary specificity key.</summary>
    public int LiteralCount { get; }

    /// <summary>Any pattern; used for <c>when</c> value globs, where every character is allowed.</summary>
    public static Glob Create(string pattern) => new(pattern);

    /// <summary>
    /// A tool-name pattern (rule key or <c>hide</c> entry), or null with <paramref name="error"/> set.
    /// Why so strict: a typo in a glob silently changes what is allowed, so refuse anything odd.
    /// </summary>
    public static Glob? TryCreateToolPattern(string pattern, out string? error)
    {
        if (pattern.Length == 0)
        {
            error = "a tool name or glob must not be empty";
            return null;
        }

        if (pattern.Length > MaxToolPatternLength)
        {
            error = $"a tool name or glob must be at most {MaxToolPatternLength} characters";
            return null;
        }

        if (pattern.Contains("**", StringComparison.Ordinal))
        {
            error = $"invalid glob {PolicyText.Quote(pattern)}: \"**\" is not allowed; \"*\" already matches any run of characters";
            return null;
        }

        foreach (var c in pattern)
        {
            if (!IsToolPatternChar(c))
            {
                error = $"invalid tool name or glob {PolicyText.Quote(pattern)}: character {PolicyText.Quote(c.ToString())} is not allowed "
                    + "(allowed: letters, digits, _ . - / : and the wildcards * ?)";
                return null;
            }
        }

        error = null;
        return new Glob(pattern);
    }

    public bool IsMatch(ReadOnlySpan<char> text) =>
        IsLiteral ? text.SequenceEqual(Pattern) : Match(Pattern, text);

    /// <summary>Match when the caller already knows <paramref name="text"/> starts with <see cref="LiteralPrefix"/>.</summary>
    public bool IsMatchAfterPrefix(string text) =>
        Match(Pattern.AsSpan(LiteralPrefix.Length), text.AsSpan(LiteralPrefix.Length));

    private static bool IsToolPatternChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '*' or '?' or '/' or ':';

    private static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                // Why: only the last star needs revisiting; earlier stars can never do better.
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
