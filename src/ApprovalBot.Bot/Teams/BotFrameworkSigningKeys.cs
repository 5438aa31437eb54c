using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ApprovalBot.Bot.Teams;

/// <summary>A published Bot Framework signing key and the channels it is endorsed for.</summary>
internal sealed record BotFrameworkSigningKey(string Kid, JsonWebKey Key, IReadOnlyList<string> Endorsements);

/// <summary>
/// The Bot Framework's signing keys, read from the OpenID metadata document and its <c>jwks_uri</c>.
/// The JWKS is parsed here rather than by IdentityModel because IdentityModel drops the
/// non-standard <c>endorsements</c> member, which says which channels a key may sign for.
/// Keys are refreshed at least every 24 hours and when a token names an unknown key
/// (at most once per five minutes, so forged kids cannot hammer the metadata endpoint).
/// </summary>
internal sealed class BotFrameworkSigningKeys(
    IHttpClientFactory httpClientFactory,
    IOptions<TeamsOptions> options,
    TimeProvider time,
    ILogger<BotFrameworkSigningKeys> logger)
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

    private sealed record KeySet(IReadOnlyDictionary<string, BotFrameworkSigningKey> Keys, DateTimeOffset LoadedAt);

    /// <summary>The key with this id, refreshing the set when it is stale or the id is unknown; null when unknown.</summary>
    public async Task<BotFrameworkSigningKey?> FindAsync(string kid, CancellationToken cancellationToken)
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
                TeamsLog.KeysRefreshed(logger, keys.Count, jwksUri.ToString(), trigger);
                return loaded;
            }
            catch (Exception exception) when ((exception is HttpRequestException or JsonException or InvalidDataException or TaskCanceledException or ArgumentException)
                                              && !cancellationToken.IsCancellationRequested)
            {
                TeamsLog.KeysRefreshFailed(logger, exception, options.Value.OpenIdMetadataUrl, current?.Keys.Count ?? 0);
                return current;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<(IReadOnlyDictionary<string, BotFrameworkSigningKey> Keys, Uri JwksUri)> LoadAsync(CancellationToken cancellationToken)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        using var metadata = await GetJsonAsync(client, new Uri(options.Value.OpenIdMetadataUrl), cancellationToken);
        var jwksText = metadata.RootElement.TryGetProperty("jwks_uri", out var jwksElement) && jwksElement.ValueKind == JsonValueKind.String
            ? jwksElement.GetString()
            : null;
        if (!TeamsOptions.IsAcceptableUrl(jwksText, out var jwksUri) || jwksUri is null)
        {
            throw new InvalidDataException("The OpenID metadata has no usable jwks_uri (absolute, https).");
        }

        using var jwks = await GetJsonAsync(client, jwksUri, cancellationToken);
        return (ParseJwks(jwks.RootElement), jwksUri);
    }

    internal static IReadOnlyDictionary<string, BotFrameworkSigningKey> ParseJwks(JsonElement root)
    {
        if (!root.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException("The JWKS document has no keys array.");
        }

        var result = new Dictionary<string, BotFrameworkSigningKey>(StringComparer.Ordinal);
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

            result[kid] = new BotFrameworkSigningKey(kid, new JsonWebKey(item.GetRawText()), endorsements);
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
