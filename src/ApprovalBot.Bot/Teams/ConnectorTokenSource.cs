using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;
using Microsoft.Identity.Client.AppConfig;

namespace ApprovalBot.Bot.Teams;

/// <summary>Bearer tokens for calls to the Bot Connector service.</summary>
internal interface IConnectorTokenSource
{
    Task<string> GetTokenAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The bot's own token for the Bot Connector, through MSAL, which caches it and renews it before it
/// expires. <see cref="TeamsOptions.AppType"/> decides how it is obtained:
/// <list type="bullet">
/// <item>SingleTenant: client credentials at the bot's tenant
/// (<c>https://login.microsoftonline.com/{TenantId}/oauth2/v2.0/token</c>);</item>
/// <item>MultiTenant: client credentials at the <c>botframework.com</c> tenant;</item>
/// <item>UserAssignedMSI: the managed identity flow (<see cref="TeamsOptions.ResolvedManagedIdentityClientId"/>),
/// resource <c>https://api.botframework.com</c>.</item>
/// </list>
/// The client-credentials authority is derived from <see cref="TeamsOptions.TokenEndpoint"/>, so
/// tests can point it at a fake.
/// </summary>
/// <remarks>
/// MSAL refuses any authority that is not https. So that tests can use a plain local fake, a
/// TokenEndpoint of <c>http://127.0.0.1:port/…</c> (loopback only — see
/// <see cref="TeamsOptions.Validate"/>) is given to MSAL as https and
/// <see cref="LoopbackTokenEndpointHandler"/> sends those requests over http to that same host and
/// port; the same handler sends MSAL's managed identity requests to
/// <see cref="TeamsOptions.ManagedIdentityEndpoint"/> when a test sets one. Every other request
/// MSAL makes goes out unchanged.
/// </remarks>
internal sealed class MsalConnectorTokenSource : IConnectorTokenSource
{
    public const string Scope = "https://api.botframework.com/.default";
    public const string ManagedIdentityResource = "https://api.botframework.com";
    public const string HttpClientName = "ApprovalBot.Teams.Token";

    private readonly IOptions<TeamsOptions> _options;
    private readonly ILogger<MsalConnectorTokenSource> _logger;
    private readonly Lazy<Func<CancellationToken, Task<AuthenticationResult>>> _acquire;

    public MsalConnectorTokenSource(IOptions<TeamsOptions> options, IHttpClientFactory httpClientFactory, ILogger<MsalConnectorTokenSource> logger)
    {
        _options = options;
        _logger = logger;
        _acquire = new Lazy<Func<CancellationToken, Task<AuthenticationResult>>>(() =>
        {
            var value = options.Value;
            var factory = new FactoryAdapter(httpClientFactory);
            TeamsLog.ConnectorIdentity(logger, value.ParsedAppType.ToString(), Authority(value));
            if (value.ParsedAppType == TeamsAppType.UserAssignedMSI)
            {
                var identity = ManagedIdentityApplicationBuilder
                    .Create(ManagedIdentityId.WithUserAssignedClientId(value.ResolvedManagedIdentityClientId!))
                    .WithHttpClientFactory(factory)
                    .Build();
                return cancellationToken => identity.AcquireTokenForManagedIdentity(ManagedIdentityResource).ExecuteAsync(cancellationToken);
            }

            var application = ConfidentialClientApplicationBuilder.Create(value.AppId)
                .WithClientSecret(value.AppPassword)
                .WithAuthority(MsalAuthority(value.ResolvedTokenEndpoint), validateAuthority: false)
                .WithInstanceDiscovery(false)
                .WithHttpClientFactory(factory)
                .Build();
            return cancellationToken => application.AcquireTokenForClient([Scope]).ExecuteAsync(cancellationToken);
        });
    }

    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        try
        {
            var result = await _acquire.Value(cancellationToken);
            return result.AccessToken;
        }
        catch (MsalException exception)
        {
            // MSAL's messages name the cause (wrong secret, app not in tenant, no managed identity) but never the secret.
            var value = _options.Value;
            TeamsLog.ConnectorTokenFailed(_logger, exception, value.ParsedAppType.ToString(), Authority(value), exception.ErrorCode);
            throw;
        }
    }

    /// <summary>Where the token comes from, for the log: the token endpoint, or the managed identity.</summary>
    internal static string Authority(TeamsOptions options) => options.ParsedAppType == TeamsAppType.UserAssignedMSI
        ? $"the managed identity {options.ResolvedManagedIdentityClientId}"
        : options.ResolvedTokenEndpoint;

    /// <summary><c>https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token</c> → <c>https://login.microsoftonline.com/{tenant}</c>.</summary>
    internal static string MsalAuthority(string tokenEndpoint)
    {
        var uri = new Uri(tokenEndpoint);
        var path = uri.AbsolutePath.TrimEnd('/');
        path = path[..^TeamsOptions.TokenEndpointSuffix.Length];
        var builder = new UriBuilder(uri) { Scheme = Uri.UriSchemeHttps, Path = path, Query = "", Fragment = "" };
        if (uri.IsDefaultPort)
        {
            builder.Port = -1;
        }

        return builder.Uri.ToString().TrimEnd('/');
    }

    private sealed class FactoryAdapter(IHttpClientFactory factory) : IMsalHttpClientFactory
    {
        public HttpClient GetHttpClient() => factory.CreateClient(HttpClientName);
    }
}

/// <summary>
/// Lets MSAL reach local fakes in tests: requests to the https form of a plain-http loopback
/// TokenEndpoint go out over http to that host and port, and, when
/// <see cref="TeamsOptions.ManagedIdentityEndpoint"/> is set, requests to the Azure Instance
/// Metadata Service (<c>169.254.169.254</c>) go to that loopback endpoint instead (path and query
/// kept). Inactive for an https TokenEndpoint and an empty ManagedIdentityEndpoint, i.e. in production.
/// </summary>
internal sealed class LoopbackTokenEndpointHandler(IOptions<TeamsOptions> options) : DelegatingHandler
{
    public const string ImdsHost = "169.254.169.254";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var value = options.Value;
        if (request.RequestUri is { } target)
        {
            if (Uri.TryCreate(value.ResolvedTokenEndpoint, UriKind.Absolute, out var endpoint)
                && endpoint.Scheme == Uri.UriSchemeHttp
                && TeamsOptions.IsLoopback(endpoint)
                && target.Scheme == Uri.UriSchemeHttps
                && string.Equals(target.Host, endpoint.Host, StringComparison.OrdinalIgnoreCase)
                && (target.Port == endpoint.Port || (endpoint.IsDefaultPort && target.IsDefaultPort)))
            {
                request.RequestUri = new UriBuilder(target) { Scheme = Uri.UriSchemeHttp, Port = endpoint.Port }.Uri;
            }
            else if (value.ParsedAppType == TeamsAppType.UserAssignedMSI
                     && Uri.TryCreate(value.ManagedIdentityEndpoint, UriKind.Absolute, out var imds)
                     && imds.Scheme == Uri.UriSchemeHttp
                     && TeamsOptions.IsLoopback(imds)
                     && string.Equals(target.Host, ImdsHost, StringComparison.Ordinal))
            {
                request.RequestUri = new UriBuilder(target) { Scheme = imds.Scheme, Host = imds.Host, Port = imds.Port }.Uri;
            }
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Puts the Connector bearer token on every outbound Connector request (and on every retry of it).</summary>
internal sealed class ConnectorAuthorizationHandler(IConnectorTokenSource tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await base.SendAsync(request, cancellationToken);
    }
}
