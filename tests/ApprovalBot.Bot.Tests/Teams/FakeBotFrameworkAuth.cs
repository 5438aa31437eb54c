using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>
/// A local stand-in for the Bot Framework's token issuer: serves the OpenID metadata document and
/// a JWKS whose keys carry <c>endorsements</c> (as login.botframework.com does), and mints tokens
/// shaped like the ones the Bot Connector sends to <c>/api/messages</c>: header
/// <c>{alg: RS256, kid, x5t, typ: JWT}</c>, payload <c>{serviceurl, nbf, exp, iss, aud}</c>.
/// Point <c>ApprovalBot:Teams:OpenIdMetadataUrl</c> at <see cref="MetadataUrl"/>.
/// <para>
/// On the same port it also plays Entra ID for any number of tenants (<see cref="Tenant"/>): each
/// with its own OpenID metadata (<c>/{tenant}/v2.0/.well-known/openid-configuration</c>), its own
/// JWKS with its own RSA keys (<c>/{tenant}/discovery/v2.0/keys</c>), and v1/v2 tokens as a
/// single-tenant bot receives them. Point <c>ApprovalBot:Teams:TenantOpenIdMetadataUrl</c> at
/// <see cref="TenantMetadataUrlTemplate"/>.
/// </para>
/// </summary>
public sealed class FakeBotFrameworkAuth : IAsyncDisposable
{
    public const string Issuer = "https://api.botframework.com";
    public const string TeamsChannel = "msteams";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeSigningKey> _published = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeEntraTenant> _tenants = new(StringComparer.OrdinalIgnoreCase);
    private int _metadataRequests;
    private int _jwksRequests;

    private FakeBotFrameworkAuth(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        DefaultKey = PublishKey("default-key", TeamsChannel, "skype", "webchat");
    }

    public Uri BaseAddress { get; }

    /// <summary>The OpenID metadata document (configure as OpenIdMetadataUrl).</summary>
    public Uri MetadataUrl => new(BaseAddress, "v1/.well-known/openidconfiguration");

    public Uri JwksUrl => new(BaseAddress, "v1/.well-known/keys");

    /// <summary>Published, endorsed for msteams, skype and webchat; signs tokens unless told otherwise.</summary>
    public FakeSigningKey DefaultKey { get; }

    public IReadOnlyCollection<FakeSigningKey> PublishedKeys => _published.Values.ToList();

    public int MetadataRequests => Volatile.Read(ref _metadataRequests);

    public int JwksRequests => Volatile.Read(ref _jwksRequests);

    /// <summary>While true, the Bot Framework metadata and JWKS answer 503 (a failed key refresh).</summary>
    public bool Unavailable { get; set; }

    /// <summary>Configure as TenantOpenIdMetadataUrl: <c>http://127.0.0.1:port/{TenantId}/v2.0/.well-known/openid-configuration</c>.</summary>
    public string TenantMetadataUrlTemplate => BaseAddress + "{TenantId}/v2.0/.well-known/openid-configuration";

    /// <summary>The fake Entra tenant with this id (created, with its own default key, on first use).</summary>
    public FakeEntraTenant Tenant(string tenantId) => _tenants.GetOrAdd(tenantId, id => new FakeEntraTenant(this, id));

    public static async Task<FakeBotFrameworkAuth> StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        FakeBotFrameworkAuth? fake = null;
        app.MapGet("/v1/.well-known/openidconfiguration", () =>
        {
            Interlocked.Increment(ref fake!._metadataRequests);
            if (fake.Unavailable)
            {
                return Results.StatusCode(503);
            }

            return Results.Text(new JsonObject
            {
                ["issuer"] = Issuer,
                ["authorization_endpoint"] = "https://invalid.botframework.com",
                ["jwks_uri"] = fake.JwksUrl.ToString(),
                ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
                ["token_endpoint_auth_methods_supported"] = new JsonArray("private_key_jwt"),
            }.ToJsonString(), "application/json");
        });
        app.MapGet("/v1/.well-known/keys", () =>
        {
            Interlocked.Increment(ref fake!._jwksRequests);
            if (fake.Unavailable)
            {
                return Results.StatusCode(503);
            }

            var keys = new JsonArray();
            foreach (var key in fake._published.Values.OrderBy(k => k.Kid, StringComparer.Ordinal))
            {
                keys.Add(key.ToJwk());
            }

            return Results.Text(new JsonObject { ["keys"] = keys }.ToJsonString(), "application/json");
        });
        app.MapGet("/{tenant}/v2.0/.well-known/openid-configuration", (string tenant) =>
            fake!._tenants.TryGetValue(tenant, out var entra) ? entra.Metadata() : UnknownTenant(tenant));
        app.MapGet("/{tenant}/discovery/v2.0/keys", (string tenant) =>
            fake!._tenants.TryGetValue(tenant, out var entra) ? entra.Jwks() : UnknownTenant(tenant));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake = new FakeBotFrameworkAuth(app, new Uri(address.TrimEnd('/') + "/"));
        return fake;
    }

    /// <summary>Creates a key and publishes it in the JWKS with these endorsements.</summary>
    public FakeSigningKey PublishKey(string? kid = null, params string[] endorsements)
    {
        var key = CreateKey(kid, endorsements);
        _published[key.Kid] = key;
        return key;
    }

    /// <summary>Removes a key from the JWKS (as after a key rotation).</summary>
    public void Unpublish(string kid) => _published.TryRemove(kid, out _);

    /// <summary>A key that is not published (for "unknown kid" and "signed by another key").</summary>
    public static FakeSigningKey CreateKey(string? kid = null, params string[] endorsements) =>
        new(kid ?? "key-" + Guid.NewGuid().ToString("N")[..12], endorsements);

    /// <summary>
    /// A token as the Bot Connector sends it. Defaults: signed by <see cref="DefaultKey"/>, issuer
    /// api.botframework.com, valid from a minute ago for an hour (relative to <paramref name="now"/>,
    /// else the wall clock). <paramref name="kid"/> overrides the header's kid (to pair one key's
    /// id with another key's signature).
    /// </summary>
    public string CreateToken(
        string audience,
        string serviceUrl,
        DateTimeOffset? now = null,
        FakeSigningKey? key = null,
        string issuer = Issuer,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? expires = null,
        string? kid = null,
        IReadOnlyDictionary<string, string>? extraClaims = null)
    {
        key ??= DefaultKey;
        var at = now ?? DateTimeOffset.UtcNow;
        var header = new JsonObject
        {
            ["alg"] = "RS256",
            ["kid"] = kid ?? key.Kid,
            ["x5t"] = key.X5t,
            ["typ"] = "JWT",
        };
        var payload = new JsonObject
        {
            ["serviceurl"] = serviceUrl,
            ["nbf"] = (notBefore ?? at.AddMinutes(-1)).ToUnixTimeSeconds(),
            ["exp"] = (expires ?? at.AddHours(1)).ToUnixTimeSeconds(),
            ["iss"] = issuer,
            ["aud"] = audience,
        };
        foreach (var (name, value) in extraClaims ?? new Dictionary<string, string>())
        {
            payload[name] = value;
        }

        return Sign(header, payload, key);
    }

    /// <summary>An RS256 JWS of <paramref name="payload"/> under <paramref name="header"/>, signed by <paramref name="key"/>.</summary>
    internal static string Sign(JsonObject header, JsonObject payload, FakeSigningKey key)
    {
        var signingInput = Base64Url(header.ToJsonString()) + "." + Base64Url(payload.ToJsonString());
        var signature = key.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    // As login.microsoftonline.com answers for a tenant that does not exist.
    private static IResult UnknownTenant(string tenant) =>
        Results.Json(new { error = "invalid_tenant", error_description = $"AADSTS90002: Tenant '{tenant}' not found." }, statusCode: 400);

    /// <summary>An unsigned token (<c>alg: none</c>) that otherwise looks valid and names a published kid.</summary>
    public string CreateUnsignedToken(string audience, string serviceUrl, DateTimeOffset? now = null)
    {
        var at = now ?? DateTimeOffset.UtcNow;
        var header = new JsonObject { ["alg"] = "none", ["kid"] = DefaultKey.Kid, ["typ"] = "JWT" };
        var payload = new JsonObject
        {
            ["serviceurl"] = serviceUrl,
            ["nbf"] = at.AddMinutes(-1).ToUnixTimeSeconds(),
            ["exp"] = at.AddHours(1).ToUnixTimeSeconds(),
            ["iss"] = Issuer,
            ["aud"] = audience,
        };
        return Base64Url(header.ToJsonString()) + "." + Base64Url(payload.ToJsonString()) + ".";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var key in _published.Values)
        {
            key.Dispose();
        }

        foreach (var tenant in _tenants.Values)
        {
            tenant.Dispose();
        }
    }

    internal static string Base64Url(string text) => Base64Url(Encoding.UTF8.GetBytes(text));

    internal static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>An RSA signing key with a self-signed certificate, published as a JWK with endorsements.</summary>
public sealed class FakeSigningKey : IDisposable
{
    internal FakeSigningKey(string kid, IReadOnlyList<string> endorsements)
    {
        Kid = kid;
        Endorsements = endorsements;
        Rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={kid}", Rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    public string Kid { get; }

    public IReadOnlyList<string> Endorsements { get; }

    public RSA Rsa { get; }

    public X509Certificate2 Certificate { get; }

    public string X5t => FakeBotFrameworkAuth.Base64Url(Certificate.GetCertHash());

    /// <summary>The JWKS entry, like login.botframework.com's: kty, use, kid, x5t, n, e, x5c, endorsements.</summary>
    public JsonObject ToJwk()
    {
        var jwk = ToEntraJwk(null);
        var endorsements = new JsonArray();
        foreach (var endorsement in Endorsements)
        {
            endorsements.Add(endorsement);
        }

        jwk["endorsements"] = endorsements;
        return jwk;
    }

    /// <summary>The JWKS entry, like an Entra tenant's v2 keys: kty, use, kid, x5t, n, e, x5c, issuer (no endorsements).</summary>
    public JsonObject ToEntraJwk(string? issuer)
    {
        var parameters = Rsa.ExportParameters(false);
        var jwk = new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["kid"] = Kid,
            ["x5t"] = X5t,
            ["n"] = FakeBotFrameworkAuth.Base64Url(parameters.Modulus!),
            ["e"] = FakeBotFrameworkAuth.Base64Url(parameters.Exponent!),
            ["x5c"] = new JsonArray(Convert.ToBase64String(Certificate.RawData)),
        };
        if (issuer is not null)
        {
            jwk["issuer"] = issuer;
        }

        return jwk;
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Rsa.Dispose();
    }
}

/// <summary>Which Entra token format: v1 (issuer sts.windows.net, <c>appid</c>) or v2 (issuer login.microsoftonline.com/…/v2.0, <c>azp</c>).</summary>
public enum EntraTokenVersion
{
    V1,
    V2,
}

/// <summary>
/// One Entra tenant of <see cref="FakeBotFrameworkAuth"/>: its OpenID metadata and JWKS (its own
/// RSA keys, without endorsements; they serve both the v1 and the v2 issuer, as a real tenant's
/// do), and tokens as a single-tenant bot receives them from the Bot Service.
/// </summary>
public sealed class FakeEntraTenant : IDisposable
{
    /// <summary>The app id the tokens name as their requester (<c>appid</c>/<c>azp</c>): some first-party service, not the bot.</summary>
    public const string RequestingAppId = "5a807f24-c9de-44ee-a3a7-329e88a00ffc";

    private readonly FakeBotFrameworkAuth _server;
    private readonly ConcurrentDictionary<string, FakeSigningKey> _published = new(StringComparer.Ordinal);
    private int _metadataRequests;
    private int _jwksRequests;

    internal FakeEntraTenant(FakeBotFrameworkAuth server, string tenantId)
    {
        _server = server;
        TenantId = tenantId;
        DefaultKey = PublishKey("entra-" + tenantId[..Math.Min(8, tenantId.Length)]);
    }

    public string TenantId { get; }

    /// <summary><c>https://sts.windows.net/{tid}/</c></summary>
    public string V1Issuer => $"https://sts.windows.net/{TenantId}/";

    /// <summary><c>https://login.microsoftonline.com/{tid}/v2.0</c></summary>
    public string V2Issuer => $"https://login.microsoftonline.com/{TenantId}/v2.0";

    public Uri MetadataUrl => new(_server.BaseAddress, $"{TenantId}/v2.0/.well-known/openid-configuration");

    public Uri JwksUrl => new(_server.BaseAddress, $"{TenantId}/discovery/v2.0/keys");

    /// <summary>Published in this tenant's JWKS; signs tokens unless told otherwise.</summary>
    public FakeSigningKey DefaultKey { get; }

    public int MetadataRequests => Volatile.Read(ref _metadataRequests);

    public int JwksRequests => Volatile.Read(ref _jwksRequests);

    /// <summary>While true, this tenant's metadata and JWKS answer 503 (a failed key refresh).</summary>
    public bool Unavailable { get; set; }

    /// <summary>Creates a key and publishes it in this tenant's JWKS (as after a key rotation).</summary>
    public FakeSigningKey PublishKey(string? kid = null)
    {
        var key = FakeBotFrameworkAuth.CreateKey(kid);
        _published[key.Kid] = key;
        return key;
    }

    /// <summary>Removes a key from this tenant's JWKS.</summary>
    public void Unpublish(string kid) => _published.TryRemove(kid, out _);

    /// <summary>
    /// A token as the Bot Service sends it to a single-tenant bot: issued by this tenant (v1 or v2
    /// issuer), for <paramref name="audience"/>, with the <c>serviceurl</c> claim (none when
    /// <paramref name="serviceUrl"/> is null: a token any app of the tenant could obtain). Defaults: signed by
    /// <see cref="DefaultKey"/>, valid from a minute ago for an hour. <paramref name="issuer"/>
    /// overrides the version's issuer; <paramref name="kid"/> the header's key id.
    /// </summary>
    public string CreateToken(
        string audience,
        string? serviceUrl,
        EntraTokenVersion version = EntraTokenVersion.V2,
        DateTimeOffset? now = null,
        FakeSigningKey? key = null,
        string? issuer = null,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? expires = null,
        string? kid = null)
    {
        key ??= DefaultKey;
        var at = now ?? DateTimeOffset.UtcNow;
        var header = new JsonObject
        {
            ["typ"] = "JWT",
            ["alg"] = "RS256",
            ["x5t"] = key.X5t,
            ["kid"] = kid ?? key.Kid,
        };
        var payload = new JsonObject
        {
            ["aud"] = audience,
            ["iss"] = issuer ?? (version == EntraTokenVersion.V1 ? V1Issuer : V2Issuer),
            ["iat"] = at.AddMinutes(-1).ToUnixTimeSeconds(),
            ["nbf"] = (notBefore ?? at.AddMinutes(-1)).ToUnixTimeSeconds(),
            ["exp"] = (expires ?? at.AddHours(1)).ToUnixTimeSeconds(),
            ["tid"] = TenantId,
            ["ver"] = version == EntraTokenVersion.V1 ? "1.0" : "2.0",
        };
        if (serviceUrl is not null)
        {
            payload["serviceurl"] = serviceUrl;
        }

        if (version == EntraTokenVersion.V1)
        {
            payload["appid"] = RequestingAppId;
            payload["appidacr"] = "2";
        }
        else
        {
            payload["azp"] = RequestingAppId;
            payload["azpacr"] = "2";
        }

        return FakeBotFrameworkAuth.Sign(header, payload, key);
    }

    internal IResult Metadata()
    {
        Interlocked.Increment(ref _metadataRequests);
        if (Unavailable)
        {
            return Results.StatusCode(503);
        }

        return Results.Text(new JsonObject
        {
            ["token_endpoint"] = new Uri(_server.BaseAddress, $"{TenantId}/oauth2/v2.0/token").ToString(),
            ["jwks_uri"] = JwksUrl.ToString(),
            ["issuer"] = V2Issuer,
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["tenant_region_scope"] = "EU",
            ["cloud_instance_name"] = "microsoftonline.com",
        }.ToJsonString(), "application/json");
    }

    internal IResult Jwks()
    {
        Interlocked.Increment(ref _jwksRequests);
        if (Unavailable)
        {
            return Results.StatusCode(503);
        }

        var keys = new JsonArray();
        foreach (var key in _published.Values.OrderBy(k => k.Kid, StringComparer.Ordinal))
        {
            keys.Add(key.ToEntraJwk(V2Issuer));
        }

        return Results.Text(new JsonObject { ["keys"] = keys }.ToJsonString(), "application/json");
    }

    public void Dispose()
    {
        foreach (var key in _published.Values)
        {
            key.Dispose();
        }
    }
}
