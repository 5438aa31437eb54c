using System.Text.RegularExpressions;
namespace ApprovalBot.Gateway.Configuration;

/// <summary>Bound from <c>ApprovalBot:Gateway</c>.</summary>
public sealed partial record GatewayOptions
{
    public const string SectionPath = "ApprovalBot:Gateway";

    /// <summary>Keyed by name, which is also the default tool prefix (<c>name_</c>).</summary>
    public Dictionary<string, UpstreamOptions> Upstreams { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Agent identities: bearer API keys stored as hex SHA-256.</summary>
    public Dictionary<string, AgentOptions> Agents { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Accept calls without a key, as identity <c>anonymous</c>.</summary>
    public bool AllowAnonymous { get; init; }

    /// <summary>Names this gateway on the bus (its decision queue); stable across restarts.</summary>
    public string? InstanceId { get; init; }

    /// <summary>Browser origins allowed on /mcp besides loopback ones (DNS-rebinding guard).</summary>
    public string[] AllowedOrigins { get; init; } = [];

    /// <summary>
    /// Host header values accepted on /mcp (DNS-rebinding guard): names, <c>*.example.com</c> for
    /// subdomains, <c>*</c> for any. Empty: loopback names when every listening address is loopback, else any.
    /// </summary>
    public string[] AllowedHosts { get; init; } = [];

    public long MaxRequestBodyBytes { get; init; } = 1024 * 1024;

    public TimeSpan SessionIdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Identity of the agent on the stdio front (a single local client).</summary>
    public string StdioAgent { get; init; } = "stdio";

    /// <summary>Page size of the merged tools/prompts/resources lists.</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Argument names treated as credentials (lower-cased, '_'/'-' ignored); empty for the built-in list.</summary>
    public string[] SecretArgumentNames { get; init; } = [];

    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The interval heartbeats (and, sharing the store, task leases) keep: <see cref="HeartbeatInterval"/>, or 10 s when it is not positive.</summary>
    public TimeSpan HeartbeatEvery => HeartbeatInterval > TimeSpan.Zero ? HeartbeatInterval : TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the front holds tools/list (and the other lists) at start-up for every upstream's
    /// first connection attempt, so a client that lists once sees every tool. Zero: no wait.
    /// </summary>
    public TimeSpan StartupWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Every problem, one line each, naming the key.</summary>
    public IEnumerable<string> Validate()
    {
        if (Upstreams.Count(u => u.Value.Enabled) == 0)
        {
            yield return $"{SectionPath}:Upstreams has no enabled upstream: configure at least one (Command or Url).";
        }

        foreach (var (name, upstream) in Upstreams.Where(u => u.Value.Enabled))
        {
            var key = $"{SectionPath}:Upstreams:{name}";
            if (!UpstreamName().IsMatch(name))
            {
                yield return $"{key}: the name may contain only letters, digits, '_' and '-'.";
            }

            var hasCommand = !string.IsNullOrWhiteSpace(upstream.Command);
            var hasUrl = !string.IsNullOrWhiteSpace(upstream.Url);
            if (hasCommand && hasUrl)
            {
                yield return $"{key} has both Command and Url; an upstream is either stdio (Command) or Streamable HTTP (Url).";
            }
            else if (!hasCommand && !hasUrl)
            {
                yield return $"{key} needs Command (stdio) or Url (Streamable HTTP).";
            }

            if (hasUrl && (!Uri.TryCreate(upstream.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                yield return $"{key}:Url must be an absolute http(s) URL.";
            }

            if (upstream.CallTimeout <= TimeSpan.Zero)
            {
                yield return $"{key}:CallTimeout must be positive (e.g. 00:01:00).";
            }

            if (upstream.PingInterval < TimeSpan.Zero)
            {
                yield return $"{key}:PingInterval must not be negative (00:00:00 turns pings off).";
            }

            if (upstream.WorkingDirectory is { Length: > 0 } wd && !Directory.Exists(wd))
            {
                yield return $"{key}:WorkingDirectory '{wd}' does not exist.";
            }
        }

        foreach (var (name, agent) in Agents)
        {
            if (agent.ApiKeySha256 is null || !Sha256Hex().IsMatch(agent.ApiKeySha256.Trim()))
            {
                yield return $"{SectionPath}:Agents:{name}:ApiKeySha256 must be 64 hex characters (the SHA-256 of the key; see 'approvalbot hash-key').";
            }
        }

        for (var i = 0; i < AllowedHosts.Length; i++)
        {
            if (!AllowedHost().IsMatch(AllowedHosts[i]))
            {
                yield return $"{SectionPath}:AllowedHosts:{i} '{AllowedHosts[i]}' must be a host name or address (optionally *.domain, or * for any), without scheme or path.";
            }
        }

        if (StartupWait < TimeSpan.Zero)
        {
            yield return $"{SectionPath}:StartupWait must not be negative (00:00:00 serves lists without waiting for upstreams).";
        }

        if (MaxRequestBodyBytes < 1024)
        {
            yield return $"{SectionPath}:MaxRequestBodyBytes must be at least 1024.";
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex UpstreamName();

    [GeneratedRegex(@"^(\*|(\*\.)?[A-Za-z0-9_.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$")]
    private static partial Regex AllowedHost();

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Hex();
}

public sealed record UpstreamOptions
{
    public string? Command { get; init; }
    public string[] Args { get; init; } = [];
    public Dictionary<string, string> Env { get; init; } = new(StringComparer.Ordinal);
    public string? WorkingDirectory { get; init; }
    public string? Url { get; init; }
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Null: <c>name_</c>. Empty: no prefix.</summary>
    public string? Prefix { get; init; }

    /// <summary>Off: the upstream is configured but not connected (lets layers of configuration remove one).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Longest wait for the answer to one forwarded request; then the agent gets a clear error.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often a liveness ping goes to the upstream; an unanswered ping marks it unresponsive. Zero: no pings.</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(15);
}

public sealed record AgentOptions
{
    public string? ApiKeySha256 { get; init; }
}
