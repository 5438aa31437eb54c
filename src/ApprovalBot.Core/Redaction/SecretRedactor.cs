using System.Text.Json;
using System.Text.Json.Nodes;

namespace ApprovalBot.Core.Redaction;

/// <summary>
/// Replaces the values of credential-like argument names. Everything that leaves the upstream call
/// path (cards, bus, logs, audit, status) goes through here.
/// </summary>
public sealed class SecretRedactor
{
    public const string Mask = "[redacted]";

    /// <summary>Matched against names lower-cased with '_', '-' and '.' removed.</summary>
    public static readonly IReadOnlyList<string> DefaultPatterns =
    [
        "apikey", "token", "secret", "password", "passwd", "passphrase", "authorization",
        "credential", "privatekey", "accesskey", "cookie", "sessionkey", "signature",
    ];

    private readonly string[] _patterns;

    public SecretRedactor(IEnumerable<string>? patterns = null)
    {
        _patterns = (patterns ?? DefaultPatterns).Select(Normalize).Where(p => p.Length > 0).Distinct().ToArray();
    }

    public bool IsSecretName(string name)
    {
        var normalized = Normalize(name);
        foreach (var pattern in _patterns)
        {
            if (normalized.Contains(pattern, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Returns compact JSON text of <paramref name="arguments"/> with secret values masked.</summary>
    public string RedactToJson(JsonElement? arguments, bool indented = false)
    {
        if (arguments is not { } element || element.ValueKind is JsonValueKind.Undefined)
        {
            return "{}";
        }

        var node = Redact(JsonNode.Parse(element.GetRawText()));
        return node?.ToJsonString(new JsonSerializerOptions { WriteIndented = indented }) ?? "null";
    }

    public string RedactToJson(IReadOnlyDictionary<string, JsonElement>? arguments, bool indented = false)
    {
        if (arguments is null)
        {
            return "{}";
        }

        return RedactToJson(JsonSerializer.SerializeToElement(arguments), indented);
    }

    private JsonNode? Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    obj[key] = IsSecretName(key) ? JsonValue.Create(Mask) : Redact(obj[key]?.DeepClone());
                }

                return obj;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    array[i] = Redact(array[i]?.DeepClone());
                }

                return array;
            default:
                return node;
        }
    }

    private static string Normalize(string name) =>
        name.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal)
            .Replace(".", "", StringComparison.Ordinal).ToLowerInvariant();
}
