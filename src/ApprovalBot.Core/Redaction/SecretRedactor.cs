using System.Buffers;
using System.Text;
using System.Text.Json;

namespace ApprovalBot.Core.Redaction;

/// <summary>
/// The one redaction path: everything that leaves the upstream call path (cards, bus, database,
/// logs, console, status, audit) goes through here. A value is masked when
/// <list type="bullet">
/// <item>its argument name is credential-like (<see cref="IsSecretName"/>), at any depth;</item>
/// <item>it is the value of a name/value pair whose name is credential-like
/// (<c>{"name": "Authorization", "value": "…"}</c>, <c>{"key": "X-Api-Key", "value": "…"}</c>);</item>
/// <item>it looks like a secret wherever it appears in a string: bearer and basic credentials,
/// JWTs, PEM private keys, URL user-info, well-known token formats, <c>password=…</c> in free
/// text (only that part of the string is replaced);</item>
/// <item>the policy's <c>redact</c> option names it (<see cref="RedactionRules"/>).</item>
/// </list>
/// It reads the arguments and writes new text: what reaches the upstream is never touched. It never
/// throws; anything it cannot read is masked.
/// </summary>
public sealed class SecretRedactor
{
    public const string Mask = "[redacted]";

    /// <summary>
    /// Fragments found anywhere in a name lower-cased with everything but letters and digits removed
    /// (<c>X-Api-Key</c> → <c>xapikey</c>). Short words (<c>pwd</c>, <c>pass</c>, <c>auth</c>,
    /// <c>key</c>, <c>creds</c>) are matched as whole words instead: see <see cref="IsSecretName"/>.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultPatterns =
    [
        "apikey", "token", "secret", "password", "passwd", "passphrase", "authorization",
        "credential", "privatekey", "privkey", "accesskey", "cookie", "sessionkey", "signature", "sshkey", "jwt", "bearer",
    ];

    /// <summary>Members that label a name/value pair (<c>{"name": "Authorization", "value": "…"}</c>).</summary>
    private static readonly string[] LabelMembers = ["name", "key", "header", "field", "param", "parameter", "variable", "var", "env", "label", "id"];

    /// <summary>Members that carry the pair's value.</summary>
    private static readonly string[] ValueMembers = ["value", "val", "values", "content", "data"];

    /// <summary>How deep JSON inside a string (<c>"body": "{\"password\": …}"</c>) is opened.</summary>
    private const int MaxEmbeddedJsonLevels = 3;

    private static readonly JsonWriterOptions Compact = new() { SkipValidation = true };
    private static readonly JsonWriterOptions Indented = new() { SkipValidation = true, Indented = true };

    private readonly string[] _patterns;
    private readonly Func<RedactionRules?>? _siteRules;

    /// <param name="patterns">Name fragments; null for <see cref="DefaultPatterns"/>. The word rules always apply.</param>
    public SecretRedactor(IEnumerable<string>? patterns = null)
        : this(patterns, null)
    {
    }

    /// <param name="patterns">Name fragments; null for <see cref="DefaultPatterns"/>. The word rules always apply.</param>
    /// <param name="siteRules">
    /// The policy's current <c>redact</c> option, asked on every use so a policy reload applies at once
    /// (the gateway passes <c>() =&gt; policyStore.Current.Redaction</c>).
    /// </param>
    public SecretRedactor(IEnumerable<string>? patterns, Func<RedactionRules?>? siteRules)
    {
        _patterns = (patterns ?? DefaultPatterns).Select(SecretNames.Normalize).Where(p => p.Length > 0).Distinct().ToArray();
        _siteRules = siteRules;
    }

    /// <summary>True when values under this argument name are masked whatever they look like.</summary>
    public bool IsSecretName(string name) => IsSecretName(name, SiteRules());

    /// <summary>Masks the secrets found in free text (an error message, a log line); the rest stays readable.</summary>
    public string RedactText(string text)
    {
        var site = SiteRules();
        return SecretValues.Redact(text, n => IsSecretName(n, site), site.Patterns);
    }

    /// <summary>Returns JSON text of <paramref name="arguments"/> with secret values masked.</summary>
    public string RedactToJson(JsonElement? arguments, bool indented = false)
    {
        if (arguments is not { } element || element.ValueKind is JsonValueKind.Undefined)
        {
            return "{}";
        }

        return Write(indented, (writer, context) => context.Write(writer, element));
    }

    /// <summary>Returns JSON text of <paramref name="arguments"/> (a tools/call arguments object) with secret values masked.</summary>
    public string RedactToJson(IReadOnlyDictionary<string, JsonElement>? arguments, bool indented = false)
    {
        if (arguments is null)
        {
            return "{}";
        }

        return Write(indented, (writer, context) => context.WriteObject(writer, arguments.Select(p => (p.Key, p.Value))));
    }

    private string Write(bool indented, Action<Utf8JsonWriter, Walk> write)
    {
        var site = SiteRules();
        try
        {
            var buffer = new ArrayBufferWriter<byte>(256);
            using (var writer = new Utf8JsonWriter(buffer, indented ? Indented : Compact))
            {
                write(writer, new Walk(this, site, 0));
            }

            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or JsonException or FormatException)
        {
            // Fail closed: an argument we cannot read is shown as masked, never as it was.
            return "\"" + Mask + "\"";
        }
    }

    private RedactionRules SiteRules() => _siteRules?.Invoke() ?? RedactionRules.None;

    private bool IsSecretName(string name, RedactionRules site)
    {
        var normalized = SecretNames.Normalize(name);
        foreach (var pattern in _patterns)
        {
            if (normalized.Contains(pattern, StringComparison.Ordinal))
            {
                return true;
            }
        }

        foreach (var field in site.NormalizedFields)
        {
            if (SecretNames.GlobMatches(field, normalized))
            {
                return true;
            }
        }

        return SecretNames.MatchesWordRule(name);
    }

    /// <summary>
    /// true/false/null say nothing secret and help the approver (<c>"use_auth": true</c>); a number
    /// under a name ending in "tokens" is a count (<c>max_tokens</c>), not a credential.
    /// </summary>
    private static bool IsMaskable(string name, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null => false,
        JsonValueKind.Number => !SecretNames.Normalize(name).EndsWith("tokens", StringComparison.Ordinal),
        _ => true,
    };

    private static bool IsOneOf(string name, string[] names)
    {
        var normalized = SecretNames.Normalize(name);
        return Array.IndexOf(names, normalized) >= 0;
    }

    /// <summary>One pass over a JSON value; <see cref="Changed"/> says whether anything was masked.</summary>
    private sealed class Walk(SecretRedactor owner, RedactionRules site, int embeddedLevel)
    {
        public bool Changed { get; private set; }

        public void Write(Utf8JsonWriter writer, JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    WriteObject(writer, element.EnumerateObject().Select(p => (p.Name, p.Value)));
                    break;
                case JsonValueKind.Array:
                    writer.WriteStartArray();
                    foreach (var item in element.EnumerateArray())
                    {
                        Write(writer, item);
                    }

                    writer.WriteEndArray();
                    break;
                case JsonValueKind.String:
                    writer.WriteStringValue(RedactString(element));
                    break;
                default:
                    element.WriteTo(writer);
                    break;
            }
        }

        public void WriteObject(Utf8JsonWriter writer, IEnumerable<(string Name, JsonElement Value)> properties)
        {
            var members = properties.ToList();
            var (label, pairIsSecret) = FindPair(members);
            // Duplicate names (valid JSON, but most readers throw or keep one) are shown apart, never merged.
            var seen = new HashSet<string>(StringComparer.Ordinal);
            writer.WriteStartObject();
            foreach (var (name, value) in members)
            {
                var shown = Unique(SafeText(name), seen);
                writer.WritePropertyName(shown);
                var maskedByPair = pairIsSecret && IsOneOf(name, ValueMembers);
                var maskedByName = !ReferenceEquals(name, label) && owner.IsSecretName(name, site) && IsMaskable(name, value);
                if ((maskedByPair || maskedByName) && value.ValueKind != JsonValueKind.Undefined)
                {
                    writer.WriteStringValue(Mask);
                    Changed = true;
                }
                else
                {
                    Write(writer, value);
                }
            }

            writer.WriteEndObject();
        }

        /// <summary>The label member of a name/value pair, and whether its name is a credential's.</summary>
        private (string? Label, bool IsSecret) FindPair(List<(string Name, JsonElement Value)> members)
        {
            if (!members.Any(m => IsOneOf(m.Name, ValueMembers)))
            {
                return (null, false);
            }

            foreach (var (name, value) in members)
            {
                if (value.ValueKind == JsonValueKind.String && IsOneOf(name, LabelMembers) && TryGetString(value) is { } text)
                {
                    return (name, owner.IsSecretName(text, site));
                }
            }

            return (null, false);
        }

        private string Unique(string name, HashSet<string> seen)
        {
            if (seen.Add(name))
            {
                return name;
            }

            Changed = true;
            for (var i = 2; ; i++)
            {
                var candidate = $"{name} (duplicate {i})";
                if (seen.Add(candidate))
                {
                    return candidate;
                }
            }
        }

        /// <summary>Property names are checked like values (a URL with a password can be a key).</summary>
        private string SafeText(string text)
        {
            var redacted = SecretValues.Redact(text, n => owner.IsSecretName(n, site), site.Patterns);
            Changed |= !ReferenceEquals(redacted, text);
            return redacted;
        }

        private string RedactString(JsonElement element)
        {
            if (TryGetString(element) is not { } text)
            {
                Changed = true;
                return Mask;
            }

            if (embeddedLevel < MaxEmbeddedJsonLevels && LooksLikeJson(text) && TryRedactEmbedded(text) is { } embedded)
            {
                Changed = true;
                return embedded;
            }

            return SafeText(text);
        }

        /// <summary>JSON inside a string gets the name rules too; kept as it was unless something in it was masked.</summary>
        private string? TryRedactEmbedded(string text)
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                var inner = new Walk(owner, site, embeddedLevel + 1);
                var buffer = new ArrayBufferWriter<byte>(text.Length);
                using (var writer = new Utf8JsonWriter(buffer, Compact))
                {
                    inner.Write(writer, document.RootElement);
                }

                return inner.Changed ? Encoding.UTF8.GetString(buffer.WrittenSpan) : null;
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static bool LooksLikeJson(string text)
        {
            var trimmed = text.AsSpan().Trim();
            return trimmed.Length >= 2 && ((trimmed[0] == '{' && trimmed[^1] == '}') || (trimmed[0] == '[' && trimmed[^1] == ']'));
        }

        /// <summary>A string with an unpaired surrogate escape cannot be read; it is masked.</summary>
        private static string? TryGetString(JsonElement element)
        {
            try
            {
                return element.GetString();
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }
}
