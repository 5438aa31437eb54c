using System.Text.RegularExpressions;

namespace ApprovalBot.Core.Redaction;

/// <summary>
/// Site-specific redaction from the policy file's <c>"redact": {"fields": [...], "patterns": [...]}</c>,
/// applied on top of the built-in rules.
/// </summary>
/// <param name="Fields">Argument names (at any depth) whose values are masked; <c>*</c> matches any run of characters; case and separators are ignored.</param>
/// <param name="Patterns">Regular expressions; every match in any string value (or property name) is masked.</param>
public sealed record RedactionRules(IReadOnlyList<string> Fields, IReadOnlyList<Regex> Patterns)
{
    /// <summary>How long one site pattern may run on one string before the string is masked whole.</summary>
    public static readonly TimeSpan PatternTimeout = TimeSpan.FromSeconds(1);

    public static RedactionRules None { get; } = new([], []);

    public bool IsEmpty => Fields.Count == 0 && Patterns.Count == 0;

    /// <summary><see cref="Fields"/> as compared: lower-case letters, digits and <c>*</c>.</summary>
    internal string[] NormalizedFields { get; } = Fields.Select(NormalizeField).Where(f => f.Length > 0).ToArray();

    /// <summary>
    /// Compiles a site pattern, or returns null with <paramref name="error"/> set. Non-backtracking
    /// when the pattern allows it (linear time whatever the input); otherwise backtracking with a timeout.
    /// </summary>
    public static Regex? TryCompilePattern(string pattern, out string? error)
    {
        error = null;
        Regex regex;
        try
        {
            try
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, PatternTimeout);
            }
            catch (NotSupportedException)
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
            }
        }
        catch (ArgumentException e)
        {
            error = $"invalid regular expression: {e.Message}";
            return null;
        }

        if (regex.IsMatch(string.Empty))
        {
            // Why: a pattern that matches nothing-at-all would put the mask between every character.
            error = "the pattern matches the empty string; it must match at least one character";
            return null;
        }

        return regex;
    }

    /// <summary>The field pattern as it is compared: lower-case letters, digits and <c>*</c>.</summary>
    internal static string NormalizeField(string field) =>
        string.Concat(field.Where(c => char.IsLetterOrDigit(c) || c == '*').Select(char.ToLowerInvariant));
}
