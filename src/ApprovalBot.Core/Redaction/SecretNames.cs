namespace ApprovalBot.Core.Redaction;

/// <summary>
/// Which argument names hold credentials. Two kinds of rule, because names come in two shapes:
/// <list type="bullet">
/// <item>fragments, found anywhere in the name with case and separators ignored (<c>apiKey</c>,
/// <c>X-Api-Key</c>, <c>githubtoken</c> all contain <c>apikey</c> or <c>token</c>);</item>
/// <item>words, for short names that would be far too broad as fragments (<c>pass</c> is in
/// <c>compass</c>, <c>key</c> in <c>keyword</c> and <c>monkey</c>): <c>pwd</c>, <c>pass</c>,
/// <c>auth</c>, <c>creds</c> anywhere as a whole word, <c>key</c>/<c>keys</c> only as the last word
/// and not after a word that makes it a lookup key (<c>sort_key</c>, <c>routing_key</c>, <c>public_key</c>).</item>
/// </list>
/// </summary>
internal static class SecretNames
{
    /// <summary>Whole words (after splitting on separators and camelCase) that mark a credential wherever they stand.</summary>
    public static readonly IReadOnlyList<string> Words = ["pwd", "pass", "auth", "creds", "cred", "jwt", "otp", "totp"];

    /// <summary>Words before a final <c>key</c> that name a lookup or public key, not a secret.</summary>
    public static readonly IReadOnlyList<string> LookupKeyQualifiers =
    [
        "public", "primary", "foreign", "sort", "partition", "range", "hash", "row", "cache", "idempotency",
        "dedup", "deduplication", "object", "routing", "lookup", "composite", "unique", "index", "shard", "map", "group",
    ];

    /// <summary>Lower-case letters and digits only: <c>X-Api_Key</c> becomes <c>xapikey</c>.</summary>
    public static string Normalize(string name)
    {
        return string.Create(name.Length - name.Count(c => !char.IsLetterOrDigit(c)), name, static (span, source) =>
        {
            var i = 0;
            foreach (var c in source)
            {
                if (char.IsLetterOrDigit(c))
                {
                    span[i++] = char.ToLowerInvariant(c);
                }
            }
        });
    }

    /// <summary>Lower-case words: split on anything not a letter or digit and on camelCase (<c>sshKey</c>, <c>APIKey</c>).</summary>
    public static List<string> SplitWords(string name)
    {
        var words = new List<string>();
        var start = -1;
        for (var i = 0; i <= name.Length; i++)
        {
            var c = i < name.Length ? name[i] : '\0';
            var isPart = i < name.Length && char.IsLetterOrDigit(c);
            if (start >= 0 && (!isPart || IsCamelBoundary(name, i)))
            {
                words.Add(name[start..i].ToLowerInvariant());
                start = -1;
            }

            if (isPart && start < 0)
            {
                start = i;
            }
        }

        return words;
    }

    /// <summary>True when a word rule (not a fragment) makes <paramref name="name"/> a credential.</summary>
    public static bool MatchesWordRule(string name)
    {
        var words = SplitWords(name);
        for (var i = 0; i < words.Count; i++)
        {
            if (Words.Contains(words[i], StringComparer.Ordinal))
            {
                return true;
            }
        }

        if (words.Count > 0 && words[^1] is "key" or "keys")
        {
            return words.Count == 1 || !LookupKeyQualifiers.Contains(words[^2], StringComparer.Ordinal);
        }

        return false;
    }

    /// <summary><c>*</c> matches any run of characters; both sides already normalized.</summary>
    public static bool GlobMatches(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
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

    private static bool IsCamelBoundary(string name, int i)
    {
        if (i <= 0 || i >= name.Length || !char.IsUpper(name[i]))
        {
            return false;
        }

        // "sshKey": lower then upper. "APIKey": the K starts a word because a lower-case letter follows it.
        return char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1])
            || (char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]));
    }
}
