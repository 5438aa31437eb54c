using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Redaction;

namespace ApprovalBot.Core.Approvals;

/// <summary>What an approver's edit of the arguments comes to, or why it is refused.</summary>
/// <param name="Arguments">
/// The arguments to run: the edit with every hidden value put back — from the original call when it
/// was given, else still masked (enough to validate, never to run).
/// </param>
/// <param name="Edit">The edit as the approver wrote it, compact: it holds no secret (masked values stay masked).</param>
/// <param name="HiddenPaths">JSON paths (<c>#/a/b</c>) whose value is the original's hidden one, unchanged.</param>
/// <param name="Changed">False when the edit reads exactly as the card showed the original.</param>
public sealed record ArgumentEditResult(
    JsonObject? Arguments,
    string Edit,
    IReadOnlyList<string> HiddenPaths,
    bool Changed,
    string? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>Which of the checks made before any merge an edit fails.</summary>
public enum ArgumentEditRefusal
{
    /// <summary>The edit does not parse as JSON.</summary>
    NotJson,

    /// <summary>The edit parses, but not to a JSON object.</summary>
    NotObject,

    /// <summary>Something in the edit is what the redactor would mask: it was typed in.</summary>
    LooksLikeSecret,
}

/// <summary>Why an edit is refused before any merge; each caller words it for its own reader.</summary>
/// <param name="Detail">The parser's message (<see cref="ArgumentEditRefusal.NotJson"/>) or the path (<c>#/a/b</c>) of the first value that looks like a secret (<see cref="ArgumentEditRefusal.LooksLikeSecret"/>).</param>
public sealed record ArgumentEditProblem(ArgumentEditRefusal Refusal, string Detail = "");

/// <summary>
/// "Edit, then approve": an approver changes the arguments they were shown (the redacted form).
/// Values they could not see cannot be changed: wherever the original held a masked value, the
/// edit must leave that part as shown, and the original value — which never leaves the gateway —
/// is put back. An edit may not bring in anything that looks like a secret, so what is stored,
/// audited and published stays free of secrets. Pure: the same inputs always merge the same way,
/// so the gateway can bind the edit at decision time and rebuild the exact arguments at run time.
/// </summary>
public static class ArgumentEdit
{
    /// <summary>
    /// The checks an edit must pass before it can be merged: it parses, is a JSON object, and holds
    /// nothing <paramref name="redactor"/> would mask. Null when it passes.
    /// </summary>
    public static ArgumentEditProblem? Check(string edit, SecretRedactor redactor) => Read(edit, redactor).Problem;

    /// <param name="edit">The approver's arguments (a JSON object text).</param>
    /// <param name="redactedOriginal">The original arguments as the card showed them (the approval's stored redacted form).</param>
    /// <param name="original">The original arguments themselves (the agent's call, matching the approved digest); null at decision time.</param>
    public static ArgumentEditResult Apply(string edit, string redactedOriginal, IReadOnlyDictionary<string, JsonElement>? original, SecretRedactor redactor)
    {
        var (editedObject, compact, problem) = Read(edit, redactor);
        if (problem is not null || editedObject is null)
        {
            return Failed(problem switch
            {
                { Refusal: ArgumentEditRefusal.NotJson, Detail: var message } => $"the edited arguments are not valid JSON: {message}",
                { Refusal: ArgumentEditRefusal.LooksLikeSecret, Detail: var path } => $"{path} looks like a secret; secrets cannot be entered in an edit (leave \"{SecretRedactor.Mask}\" where the card shows it)",
                _ => "the edited arguments must be a JSON object",
            });
        }

        var shown = JsonNode.Parse(redactedOriginal) as JsonObject ?? [];
        JsonNode? originalNode = original is null ? null : JsonSerializer.SerializeToNode(original);
        var hidden = new List<string>();
        var errors = new List<string>();
        var merged = Merge(editedObject, shown, originalNode ?? shown, "#", hidden, errors);
        if (errors.Count > 0)
        {
            return Failed(errors[0]);
        }

        return new ArgumentEditResult(merged as JsonObject, compact, hidden, !JsonNode.DeepEquals(editedObject, shown), null);

        ArgumentEditResult Failed(string error) => new(null, "", [], false, error);
    }

    /// <summary>The edit parsed, and compact, when it passes <see cref="Check"/>; else why not.</summary>
    private static (JsonObject? Edited, string Compact, ArgumentEditProblem? Problem) Read(string edit, SecretRedactor redactor)
    {
        JsonNode? edited;
        try
        {
            edited = JsonNode.Parse(edit);
        }
        catch (JsonException e)
        {
            return (null, "", new(ArgumentEditRefusal.NotJson, e.Message));
        }

        if (edited is not JsonObject editedObject)
        {
            return (null, "", new(ArgumentEditRefusal.NotObject));
        }

        var compact = editedObject.ToJsonString();
        // Anything the redactor would mask now was typed in by the approver: refused, so no secret is stored or published.
        if (FirstDifference(editedObject, JsonNode.Parse(redactor.RedactToJson(JsonSerializer.Deserialize<JsonElement>(compact))), "#") is { } secretPath)
        {
            return (null, "", new(ArgumentEditRefusal.LooksLikeSecret, secretPath));
        }

        return (editedObject, compact, null);
    }

    private static JsonNode? Merge(JsonNode? edited, JsonNode? shown, JsonNode? original, string path, List<string> hidden, List<string> errors)
    {
        var hides = shown is not null && ContainsMask(shown);
        if (hides && JsonNode.DeepEquals(edited, shown))
        {
            // Left as shown: the original value, hidden parts included.
            hidden.Add(path);
            return original?.DeepClone();
        }

        if (!hides)
        {
            if (edited is not null && ContainsMask(edited))
            {
                errors.Add($"{path}: \"{SecretRedactor.Mask}\" can only stand for a hidden value of the original call, and there is none here");
            }

            return edited?.DeepClone();
        }

        // Part of this value is hidden: only its visible parts may change.
        switch (edited, shown, original)
        {
            case (JsonObject e, JsonObject s, JsonObject o):
                var result = new JsonObject();
                foreach (var (name, value) in s)
                {
                    if (!e.ContainsKey(name) && value is not null && ContainsMask(value))
                    {
                        errors.Add($"{path}/{name} holds a hidden value; it cannot be removed");
                    }
                }

                foreach (var (name, value) in e)
                {
                    result[name] = Merge(value, s[name], o[name], $"{path}/{name}", hidden, errors);
                }

                return result;
            case (JsonArray e, JsonArray s, JsonArray o) when e.Count == s.Count && s.Count == o.Count:
                var items = new JsonArray();
                for (var i = 0; i < e.Count; i++)
                {
                    items.Add(Merge(e[i], s[i], o[i], $"{path}/{i}", hidden, errors));
                }

                return items;
            default:
                errors.Add($"{path} holds a hidden value; it cannot be changed (leave it as \"{SecretRedactor.Mask}\")");
                return null;
        }
    }

    private static bool ContainsMask(JsonNode node) => node switch
    {
        JsonObject o => o.Any(p => p.Value is not null && ContainsMask(p.Value)),
        JsonArray a => a.Any(i => i is not null && ContainsMask(i)),
        JsonValue v => v.TryGetValue<string>(out var s) && s.Contains(SecretRedactor.Mask, StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>The first path where the two differ, or null when they are equal.</summary>
    private static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        switch (a, b)
        {
            case (JsonObject x, JsonObject y):
                foreach (var (name, value) in x)
                {
                    if (!y.ContainsKey(name))
                    {
                        return $"{path}/{name}";
                    }

                    if (FirstDifference(value, y[name], $"{path}/{name}") is { } inner)
                    {
                        return inner;
                    }
                }

                return x.Count == y.Count ? null : path;
            case (JsonArray x, JsonArray y) when x.Count == y.Count:
                for (var i = 0; i < x.Count; i++)
                {
                    if (FirstDifference(x[i], y[i], $"{path}/{i}") is { } inner)
                    {
                        return inner;
                    }
                }

                return null;
            default:
                return JsonNode.DeepEquals(a, b) ? null : path;
        }
    }
}
