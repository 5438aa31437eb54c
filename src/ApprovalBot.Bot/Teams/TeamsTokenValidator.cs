using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ApprovalBot.Bot.Teams;

/// <summary>What became of an inbound token: 401 for a missing or invalid token, 403 when a valid token does not cover this activity.</summary>
internal sealed record TokenCheck(int StatusCode, string? Reason, SigningKey? Key, JsonWebToken? Token)
{
    public bool Succeeded => StatusCode == 200;

    public static TokenCheck Unauthorized(string reason) => new(401, reason, null, null);

    public static TokenCheck Forbidden(string reason) => new(403, reason, null, null);
}

/// <summary>
/// Checks the bearer token of every activity posted to <c>/api/messages</c>, as the Bot Connector
/// authentication rules require. Two issuers are trusted, each with its own keys:
/// <list type="bullet">
/// <item>the Bot Framework (<c>https://api.botframework.com</c>), keys from its OpenID metadata,
/// the signing key endorsed for the activity's channel;</item>
/// <item>the bot's own Entra tenant (<c>https://sts.windows.net/{tid}/</c>, v1, and
/// <c>https://login.microsoftonline.com/{tid}/v2.0</c>, v2) — what single-tenant and managed
/// identity bots receive — keys from the tenant's OpenID metadata.</item>
/// </list>
/// The token's issuer picks the key set before any key is looked up, and validation then accepts
/// only that set's issuers, so a key of one set never validates a token of the other. Then:
/// audience (the app id, or <c>api://{appId}</c> / <c>api://botid-{appId}</c>), lifetime with
/// five minutes of clock skew, an RS256 signature; and, once the body is read, the token's
/// <c>serviceurl</c> claim must be the activity's <c>serviceUrl</c>. There is deliberately no way
/// to switch this off.
/// </summary>
internal sealed class TeamsTokenValidator(TeamsSigningKeys keys, IOptions<TeamsOptions> options, TimeProvider time)
{
    public const string BotFrameworkIssuer = "https://api.botframework.com";
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    private const int MaxTokenLength = 16 * 1024;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>The v1 and v2 issuers of an Entra tenant.</summary>
    public static IReadOnlyList<string> TenantIssuers(string tenantId) =>
    [
        $"https://sts.windows.net/{tenantId}/",
        $"https://login.microsoftonline.com/{tenantId}/v2.0",
    ];

    /// <summary>
    /// The audiences a token for this bot may carry: the app id itself (what the Bot Framework
    /// sends), and the Application ID URI forms Microsoft's Teams SDKs accept for bots registered in
    /// Entra (<c>api://{appId}</c>, <c>api://botid-{appId}</c>). Never <c>https://api.botframework.com</c>:
    /// that is the audience of the bot's own outbound token, which other apps can obtain too.
    /// </summary>
    public static IReadOnlyList<string> Audiences(string appId) => [appId, $"api://{appId}", $"api://botid-{appId}"];

    /// <summary>Step one, before the body is trusted: is this a valid token of a trusted issuer for this bot?</summary>
    public async Task<TokenCheck> ValidateTokenAsync(string? authorization, CancellationToken cancellationToken)
    {
        const string scheme = "Bearer ";
        if (string.IsNullOrWhiteSpace(authorization) || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return TokenCheck.Unauthorized("no bearer token");
        }

        var raw = authorization[scheme.Length..].Trim();
        if (raw.Length == 0 || raw.Length > MaxTokenLength)
        {
            return TokenCheck.Unauthorized("empty or oversized bearer token");
        }

        JsonWebToken token;
        try
        {
            token = _handler.ReadJsonWebToken(raw);
        }
        catch (Exception exception) when (exception is ArgumentException or SecurityTokenException)
        {
            return TokenCheck.Unauthorized("malformed token");
        }

        // The (not yet verified) issuer only chooses where to look for the key; the validation
        // below accepts nothing but that key set's own issuers, so a lie here gains nothing.
        if (IssuerOf(token) is not { } issuer)
        {
            return TokenCheck.Unauthorized("wrong issuer");
        }

        if (string.IsNullOrEmpty(token.Kid))
        {
            return TokenCheck.Unauthorized("token names no signing key (kid)");
        }

        var keySet = keys.For(issuer);
        var key = await keySet.FindAsync(token.Kid, cancellationToken);
        if (key is null)
        {
            return TokenCheck.Unauthorized($"token signed with an unknown key id ({keySet.Name} keys)");
        }

        var result = await _handler.ValidateTokenAsync(raw, Parameters(key));
        if (!result.IsValid)
        {
            return TokenCheck.Unauthorized(Describe(result.Exception));
        }

        return new TokenCheck(200, null, key, token);
    }

    /// <summary>Step two, once the body is read: does the valid token cover this activity?</summary>
    public static TokenCheck CheckActivity(TokenCheck validated, string? serviceUrl, string? channelId)
    {
        if (!validated.Succeeded || validated.Token is null || validated.Key is null)
        {
            return validated;
        }

        // Also for Entra-issued tokens: the serviceurl claim is what ties the token to the Bot
        // Service's request (the bot sends its own Connector token to that URL), and a token some
        // other app of the tenant obtained for the bot's app id does not carry it.
        if (!validated.Token.TryGetPayloadValue<string>("serviceurl", out var claim) || string.IsNullOrEmpty(claim))
        {
            return TokenCheck.Forbidden("token has no serviceurl claim");
        }

        if (!string.Equals(claim, serviceUrl, StringComparison.Ordinal))
        {
            return TokenCheck.Forbidden("serviceurl claim does not match the activity's serviceUrl");
        }

        // Endorsements exist only in the Bot Framework's JWKS; Entra keys are the tenant's own.
        if (validated.Key.Issuer == KeyIssuer.BotFramework
            && (string.IsNullOrEmpty(channelId) || !validated.Key.Endorsements.Contains(channelId, StringComparer.Ordinal)))
        {
            return TokenCheck.Forbidden($"signing key {validated.Key.Kid} is not endorsed for channel '{channelId}'");
        }

        return validated;
    }

    /// <summary>Which key set the token's issuer claim points at; null for an issuer that is not trusted.</summary>
    private KeyIssuer? IssuerOf(JsonWebToken token)
    {
        string? issuer;
        try
        {
            issuer = token.Issuer;
        }
        catch (ArgumentException)
        {
            return null;
        }

        if (string.Equals(issuer, BotFrameworkIssuer, StringComparison.Ordinal))
        {
            return KeyIssuer.BotFramework;
        }

        return options.Value.TenantId is { Length: > 0 } tenant && TenantIssuers(tenant).Contains(issuer, StringComparer.Ordinal)
            ? KeyIssuer.EntraTenant
            : null;
    }

    private TokenValidationParameters Parameters(SigningKey key)
    {
        var value = options.Value;
        return new TokenValidationParameters
        {
            ValidIssuers = key.Issuer == KeyIssuer.BotFramework ? [BotFrameworkIssuer] : TenantIssuers(value.TenantId ?? ""),
            ValidateIssuer = true,
            ValidAudiences = Audiences(value.AppId ?? ""),
            ValidateAudience = true,
            RequireAudience = true,
            IssuerSigningKeys = [key.Key],
            TryAllIssuerSigningKeys = false,
            RequireSignedTokens = true,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ValidateIssuerSigningKey = false, // the key set itself is what we trust; Bot Framework certificates are self-issued
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = ClockSkew,
            LifetimeValidator = ValidateLifetime,
            SaveSigninToken = false,
        };
    }

    // Our own lifetime check so that "now" comes from the injected TimeProvider.
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("The token has no expiry.");
        }

        if (notBefore is { } nbf && nbf > now + ClockSkew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = nbf };
        }

        if (expires.Value < now - ClockSkew)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires.Value };
        }

        return true;
    }

    private static string Describe(Exception? exception) => exception switch
    {
        SecurityTokenInvalidIssuerException => "wrong issuer",
        SecurityTokenInvalidAudienceException => "wrong audience",
        SecurityTokenExpiredException => "token expired",
        SecurityTokenNotYetValidException => "token not valid yet",
        SecurityTokenNoExpirationException => "token has no expiry",
        SecurityTokenInvalidLifetimeException => "invalid token lifetime",
        SecurityTokenInvalidAlgorithmException => "signing algorithm not allowed",
        SecurityTokenSignatureKeyNotFoundException => "signature does not verify with the published key",
        SecurityTokenInvalidSignatureException => "invalid or missing signature",
        SecurityTokenMalformedException => "malformed token",
        null => "invalid token",
        _ => $"invalid token ({exception.GetType().Name})",
    };
}
