using System.Text.RegularExpressions;

namespace ApprovalBot.Gateway.Webhooks;

/// <summary>One outbound webhook, bound from <c>ApprovalBot:Webhooks:&lt;name&gt;</c>.</summary>
public sealed partial record WebhookOptions
{
    public const string SectionPath = "ApprovalBot:Webhooks";

    public bool Enabled { get; init; } = true;

    /// <summary>Where events are POSTed (absolute http or https URL).</summary>
    public string? Url { get; init; }

    /// <summary>Shared secret of the HMAC-SHA256 signature (at least 16 characters).</summary>
    public string? Secret { get; init; }

    /// <summary>Event names (see <see cref="WebhookEvents"/>), or <c>*</c> for all; also one comma-separated string.</summary>
    public string[] Events { get; init; } = [];

    /// <summary>Longest wait for one delivery attempt.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a failing event is retried (with back-off) before it is given up.</summary>
    public TimeSpan RetryFor { get; init; } = TimeSpan.FromDays(1);

    /// <summary>The subscribed events, with comma-separated entries split.</summary>
    public IReadOnlyList<string> EventNames =>
        Events.SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal).ToList();

    public bool Subscribes(string eventName) => EventNames.Any(e => e == "*" || e == eventName);

    /// <summary>Every enabled webhook's problems, one line each, naming the key.</summary>
    public static IEnumerable<string> ValidateAll(IReadOnlyDictionary<string, WebhookOptions> webhooks)
    {
        foreach (var (name, webhook) in webhooks.Where(w => w.Value.Enabled))
        {
            var key = $"{SectionPath}:{name}";
            if (!Name().IsMatch(name))
            {
                yield return $"{key}: the name may contain only letters, digits, '_' and '-'.";
            }

            foreach (var problem in webhook.Validate(key))
            {
                yield return problem;
            }
        }
    }

    /// <summary>Every problem, one line each, naming the key. The secret's value is never echoed.</summary>
    public IEnumerable<string> Validate(string key)
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            yield return $"{key}:Url must be an absolute http(s) URL (got '{Url}').";
        }
        else if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            yield return $"{key}:Url must not carry a user name or password; the signature authenticates the gateway.";
        }

        if (string.IsNullOrWhiteSpace(Secret))
        {
            yield return $"{key}:Secret is required: receivers verify every event's signature with it.";
        }
        else if (Secret.Length < 16)
        {
            yield return $"{key}:Secret must be at least 16 characters.";
        }

        var names = EventNames;
        if (names.Count == 0)
        {
            yield return $"{key}:Events is empty: name the events to send ({string.Join(", ", WebhookEvents.All)}) or *.";
        }

        foreach (var name in names.Where(n => n != "*" && !WebhookEvents.All.Contains(n)))
        {
            yield return $"{key}:Events: unknown event '{name}' (known: {string.Join(", ", WebhookEvents.All)}, or *).";
        }

        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(5))
        {
            yield return $"{key}:Timeout must be between 00:00:00.001 and 00:05:00 (got {Timeout}).";
        }

        if (RetryFor <= TimeSpan.Zero)
        {
            yield return $"{key}:RetryFor must be positive (e.g. 1.00:00:00).";
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex Name();
}
