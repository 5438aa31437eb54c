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
/// </summary>
public sealed class FakeBotFrameworkAuth : IAsyncDisposable
{
    public const string Issuer = "https://api.botframework.com";
    public const string TeamsChannel = "msteams";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeSigningKey> _published = new(StringComparer.Ordinal);
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
            var keys = new JsonArray();
            foreach (var key in fake._published.Values.OrderBy(k => k.Kid, StringComparer.Ordinal))
            {
                keys.Add(key.ToJwk());
            }

            return Results.Text(new JsonObject { ["keys"] = keys }.ToJsonString(), "application/json");
        });
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

        var signingInput = Base64Url(header.ToJsonString()) + "." + Base64Url(payload.ToJsonString());
        var signature = key.Rsa.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

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
        var parameters = Rsa.ExportParameters(false);
        var endorsements = new JsonArray();
        foreach (var endorsement in Endorsements)
        {
            endorsements.Add(endorsement);
        }

        return new JsonObject
        {
            ["kty"] = "RSA",
            ["use"] = "sig",
            ["kid"] = Kid,
            ["x5t"] = X5t,
            ["n"] = FakeBotFrameworkAuth.Base64Url(parameters.Modulus!),
            ["e"] = FakeBotFrameworkAuth.Base64Url(parameters.Exponent!),
            ["x5c"] = new JsonArray(Convert.ToBase64String(Certificate.RawData)),
            ["endorsements"] = endorsements,
        };
    }

    public void Dispose()
    {
        Certificate.Dispose();
        Rsa.Dispose();
    }
}
