using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ApprovalBot.Bot.Teams;

/// <summary>What became of an inbound token: 401 for a missing or invalid token, 403 when a valid token does not cover this activity.</summary>
internal sealed record TokenCheck(int StatusCode, string? Reason, BotFrameworkSigningKey? Key, JsonWebToken? Token)
{
    public bool Succeeded => StatusCode == 200;

    public static TokenCheck Unauthorized(string reason) => new(401, reason, null, null);

    public static TokenCheck Forbidden(string reason) => new(403, reason, null, null);
}

/// <summary>
/// Checks the bearer token of every activity the Bot Framework posts to <c>/api/messages</c>, as the
/// Bot Connector authentication rules require: issuer, audience (the app id), lifetime with five
/// minutes of clock skew, an RS256 signature by a published key; then that the token's
/// <c>serviceurl</c> claim is the activity's <c>serviceUrl</c> and that the signing key is endorsed
/// for the activity's channel. There is deliberately no way to switch this off.
/// </summary>
internal sealed class TeamsTokenValidator(BotFrameworkSigningKeys keys, IOptions<TeamsOptions> options, TimeProvider time)
{
    public const string BotFrameworkIssuer = "https://api.botframework.com";
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);
    private const int MaxTokenLength = 16 * 1024;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>Step one, before the body is trusted: is this a valid Bot Framework token for this bot?</summary>
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

        if (string.IsNullOrEmpty(token.Kid))
        {
            return TokenCheck.Unauthorized("token names no signing key (kid)");
        }

        var key = await keys.FindAsync(token.Kid, cancellationToken);
        if (key is null)
        {
            return TokenCheck.Unauthorized("token signed with an unknown key id");
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

        if (!validated.Token.TryGetPayloadValue<string>("serviceurl", out var claim) || string.IsNullOrEmpty(claim))
        {
            return TokenCheck.Forbidden("token has no serviceurl claim");
        }

        if (!string.Equals(claim, serviceUrl, StringComparison.Ordinal))
        {
            return TokenCheck.Forbidden("serviceurl claim does not match the activity's serviceUrl");
        }

        if (string.IsNullOrEmpty(channelId) || !validated.Key.Endorsements.Contains(channelId, StringComparer.Ordinal))
        {
            return TokenCheck.Forbidden($"signing key {validated.Key.Kid} is not endorsed for channel '{channelId}'");
        }

        return validated;
    }

    private TokenValidationParameters Parameters(BotFrameworkSigningKey key)
    {
        var tenant = options.Value.TenantId;
        return new TokenValidationParameters
        {
            ValidIssuers =
            [
                BotFrameworkIssuer,
                $"https://sts.windows.net/{tenant}/",
                $"https://login.microsoftonline.com/{tenant}/v2.0",
            ],
            ValidateIssuer = true,
            ValidAudience = options.Value.AppId,
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
