using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ApprovalBot.Bot.Teams;

/// <summary>Which issuer a key set serves: the Bot Framework, or the bot's own Entra tenant.</summary>
internal enum KeyIssuer
{
    BotFramework,
    EntraTenant,
}

/// <summary>A published signing key, the issuer whose key set it came from, and the channels it is endorsed for (Bot Framework keys only).</summary>
internal sealed record SigningKey(string Kid, JsonWebKey Key, IReadOnlyList<string> Endorsements, KeyIssuer Issuer);

/// <summary>
/// The two key sets inbound tokens are checked against. The token's issuer picks the set, and a
/// key is only ever looked up in that set, so a key of one issuer never validates a token of the
/// other: the Bot Framework's keys (<see cref="TeamsOptions.OpenIdMetadataUrl"/>) and the bot's
/// Entra tenant's keys (<see cref="TeamsOptions.TenantOpenIdMetadataUrl"/>, which serve both the
/// v1 and the v2 issuer of the tenant).
/// </summary>
internal sealed class TeamsSigningKeys(
    IHttpClientFactory httpClientFactory,
    IOptions<TeamsOptions> options,
    TimeProvider time,
    ILogger<SigningKeySet> logger)
{
    public SigningKeySet BotFramework { get; } =
        new(KeyIssuer.BotFramework, "Bot Framework", () => options.Value.OpenIdMetadataUrl, httpClientFactory, time, logger);

    public SigningKeySet EntraTenant { get; } =
        new(KeyIssuer.EntraTenant, "Entra tenant", () => options.Value.ResolvedTenantOpenIdMetadataUrl, httpClientFactory, time, logger);

    public SigningKeySet For(KeyIssuer issuer) => issuer == KeyIssuer.BotFramework ? BotFramework : EntraTenant;
}

/// <summary>
/// One issuer's signing keys, read from its OpenID metadata document and its <c>jwks_uri</c>.
/// The JWKS is parsed here rather than by IdentityModel because IdentityModel drops the
/// non-standard <c>endorsements</c> member, which says which channels a Bot Framework key may
/// sign for. Keys are refreshed at least every 24 hours and when a token names an unknown key
/// (at most once per five minutes, so forged kids cannot hammer the metadata endpoint); a failed
/// refresh keeps the last good set.
/// </summary>
internal sealed class SigningKeySet(
    KeyIssuer issuer,
    string name,
    Func<string> metadataUrl,
    IHttpClientFactory httpClientFactory,
    TimeProvider time,
    ILogger<SigningKeySet> logger)
{
    public const string HttpClientName = "ApprovalBot.Teams.OpenId";
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromHours(24);
    public static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromMinutes(5);

    /// <summary>While no key was ever loaded, try again sooner than <see cref="MinimumRefreshInterval"/>.</summary>
    public static readonly TimeSpan RetryWithoutKeys = TimeSpan.FromSeconds(15);

    private const int MaxDocumentBytes = 1024 * 1024;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile KeySet? _keys;
    private DateTimeOffset? _lastAttempt;

    private sealed record KeySet(IReadOnlyDictionary<string, SigningKey> Keys, DateTimeOffset LoadedAt);

    /// <summary>For log lines: "Bot Framework" or "Entra tenant".</summary>
    public string Name => name;

    /// <summary>The key with this id, refreshing the set when it is stale or the id is unknown; null when unknown.</summary>
    public async Task<SigningKey?> FindAsync(string kid, CancellationToken cancellationToken)
    {
        var keys = _keys;
        if (keys is null || time.GetUtcNow() - keys.LoadedAt >= RefreshInterval)
        {
            keys = await RefreshAsync(keys, keys is null ? "start" : "daily refresh", cancellationToken);
        }

        if (keys is not null && keys.Keys.TryGetValue(kid, out var key))
        {
            return key;
        }

        keys = await RefreshAsync(keys, "unknown key id", cancellationToken);
        return keys is not null && keys.Keys.TryGetValue(kid, out key) ? key : null;
    }

    private async Task<KeySet?> RefreshAsync(KeySet? seen, string trigger, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var current = _keys;
            if (!ReferenceEquals(current, seen))
            {
                return current; // someone else refreshed while we waited
            }

            var now = time.GetUtcNow();
            var spacing = current is null ? RetryWithoutKeys : MinimumRefreshInterval;
            if (_lastAttempt is { } last && now - last < spacing)
            {
                return current;
            }

            _lastAttempt = now;
            try
            {
                var (keys, jwksUri) = await LoadAsync(cancellationToken);
                var loaded = new KeySet(keys, now);
                _keys = loaded;
                TeamsLog.KeysRefreshed(logger, keys.Count, name, jwksUri.ToString(), trigger);
                return loaded;
            }
            catch (Exception exception) when ((exception is HttpRequestException or JsonException or InvalidDataException or TaskCanceledException or ArgumentException or UriFormatException)
                                              && !cancellationToken.IsCancellationRequested)
            {
                TeamsLog.KeysRefreshFailed(logger, exception, name, metadataUrl(), current?.Keys.Count ?? 0);
                return current;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(IReadOnlyDictionary<string, SigningKey> Keys, Uri JwksUri)> LoadAsync(CancellationToken cancellationToken)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        using var metadata = await GetJsonAsync(client, new Uri(metadataUrl()), cancellationToken);
        var jwksText = metadata.RootElement.TryGetProperty("jwks_uri", out var jwksElement) && jwksElement.ValueKind == JsonValueKind.String
            ? jwksElement.GetString()
            : null;
        if (!TeamsOptions.IsAcceptableUrl(jwksText, out var jwksUri) || jwksUri is null)
        {
            throw new InvalidDataException("The OpenID metadata has no usable jwks_uri (absolute, https).");
        }

        using var jwks = await GetJsonAsync(client, jwksUri, cancellationToken);
        return (ParseJwks(jwks.RootElement, issuer), jwksUri);
    }

    internal static IReadOnlyDictionary<string, SigningKey> ParseJwks(JsonElement root, KeyIssuer issuer)
    {
        if (!root.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException("The JWKS document has no keys array.");
        }

        var result = new Dictionary<string, SigningKey>(StringComparer.Ordinal);
        foreach (var item in keys.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("kid", out var kidElement) || kidElement.ValueKind != JsonValueKind.String
                || kidElement.GetString() is not { Length: > 0 } kid)
            {
                continue;
            }

            var endorsements = new List<string>();
            if (item.TryGetProperty("endorsements", out var endorsementsElement) && endorsementsElement.ValueKind == JsonValueKind.Array)
            {
                foreach (var endorsement in endorsementsElement.EnumerateArray())
                {
                    if (endorsement.ValueKind == JsonValueKind.String && endorsement.GetString() is { Length: > 0 } value)
                    {
                        endorsements.Add(value);
                    }
                }
            }

            result[kid] = new SigningKey(kid, new JsonWebKey(item.GetRawText()), endorsements, issuer);
        }

        return result;
    }

    private static async Task<JsonDocument> GetJsonAsync(HttpClient client, Uri uri, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        if (response.Content.Headers.ContentLength > MaxDocumentBytes)
        {
            throw new InvalidDataException($"{uri} is larger than {MaxDocumentBytes} bytes.");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxDocumentBytes)
            {
                throw new InvalidDataException($"{uri} is larger than {MaxDocumentBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return JsonDocument.Parse(buffer.ToArray());
    }
}
