using Microsoft.Extensions.Options;
using Microsoft.Identity.Client;

namespace ApprovalBot.Bot.Teams;

/// <summary>Bearer tokens for calls to the Bot Connector service.</summary>
public interface IConnectorTokenSource
{
    Task<string> GetTokenAsync(CancellationToken cancellationToken);
}

/// <summary>
/// MSAL client credentials for the bot's app registration in its own tenant
/// (<c>scope=https://api.botframework.com/.default</c>); MSAL caches the token and renews it
/// before it expires. The authority is derived from <see cref="TeamsOptions.TokenEndpoint"/>.
/// </summary>
/// <remarks>
/// MSAL refuses any authority that is not https. So that tests can use a plain local fake, a
/// TokenEndpoint of <c>http://127.0.0.1:port/…</c> (loopback only — see
/// <see cref="TeamsOptions.Validate"/>) is given to MSAL as https and
/// <see cref="LoopbackTokenEndpointHandler"/> sends those requests over http to that same host and
/// port. Every other request MSAL makes goes out unchanged.
/// </remarks>
internal sealed class MsalConnectorTokenSource : IConnectorTokenSource
{
    public const string Scope = "https://api.botframework.com/.default";
    public const string HttpClientName = "ApprovalBot.Teams.Token";

    private readonly Lazy<IConfidentialClientApplication> _application;

    public MsalConnectorTokenSource(IOptions<TeamsOptions> options, IHttpClientFactory httpClientFactory)
    {
        _application = new Lazy<IConfidentialClientApplication>(() =>
        {
            var value = options.Value;
            return ConfidentialClientApplicationBuilder.Create(value.AppId)
                .WithClientSecret(value.AppPassword)
                .WithAuthority(MsalAuthority(value.ResolvedTokenEndpoint), validateAuthority: false)
                .WithInstanceDiscovery(false)
                .WithHttpClientFactory(new FactoryAdapter(httpClientFactory))
                .Build();
        });
    }

    public async Task<string> GetTokenAsync(CancellationToken cancellationToken)
    {
        var result = await _application.Value.AcquireTokenForClient([Scope]).ExecuteAsync(cancellationToken);
        return result.AccessToken;
    }

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
/// Lets MSAL reach a plain-http token endpoint on a loopback address (a local fake): MSAL is
/// given the https form of the authority, and this handler turns requests to exactly that
/// loopback host and port back into http. Inactive for any https TokenEndpoint.
/// </summary>
internal sealed class LoopbackTokenEndpointHandler(IOptions<TeamsOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (Uri.TryCreate(options.Value.ResolvedTokenEndpoint, UriKind.Absolute, out var endpoint)
            && endpoint.Scheme == Uri.UriSchemeHttp
            && TeamsOptions.IsLoopback(endpoint)
            && request.RequestUri is { } target
            && target.Scheme == Uri.UriSchemeHttps
            && string.Equals(target.Host, endpoint.Host, StringComparison.OrdinalIgnoreCase)
            && (target.Port == endpoint.Port || (endpoint.IsDefaultPort && target.IsDefaultPort)))
        {
            request.RequestUri = new UriBuilder(target) { Scheme = Uri.UriSchemeHttp, Port = endpoint.Port }.Uri;
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
