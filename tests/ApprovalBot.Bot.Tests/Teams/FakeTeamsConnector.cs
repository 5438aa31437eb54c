using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>One request the bot made to the fake Connector.</summary>
/// <param name="ServicePath">The path before <c>v3/</c>, e.g. <c>/teams/</c> (a regional service URL has its own).</param>
/// <param name="RawTarget">The request target exactly as sent (escaping visible).</param>
/// <param name="Kind">create, send, reply or update.</param>
public sealed record ConnectorCall(
    int Sequence,
    string Method,
    string Kind,
    string ServicePath,
    string RawTarget,
    string? ConversationId,
    string? ActivityId,
    string? Authorization,
    JsonNode? Body,
    int StatusCode)
{
    /// <summary>The activity sent: <c>body.activity</c> for a create, the body itself otherwise.</summary>
    public JsonObject? Activity => Kind == "create" ? Body?["activity"] as JsonObject : Body as JsonObject;

    /// <summary>The first attachment's content (the Adaptive Card), if any.</summary>
    public JsonObject? Card => Activity?["attachments"]?[0]?["content"] as JsonObject;

    public string? CardContentType => Activity?["attachments"]?[0]?["contentType"]?.GetValue<string>();

    public bool Succeeded => StatusCode is >= 200 and < 300;
}

/// <summary>One token request: client credentials at <c>/{tenant}/oauth2/v2.0/token</c>, or a managed identity request to the fake IMDS.</summary>
/// <param name="Tenant">The tenant segment of the authority asked (<c>botframework.com</c> for a multi-tenant bot); empty for a managed identity request.</param>
/// <param name="Form">The form fields (client credentials) or the query parameters (managed identity).</param>
public sealed record TokenRequest(string Tenant, IReadOnlyDictionary<string, string> Form, bool Granted)
{
    /// <summary>The path that was asked, e.g. <c>/{tenant}/oauth2/v2.0/token</c> or <c>/metadata/identity/oauth2/token</c>.</summary>
    public string Path { get; init; } = "";

    public bool IsManagedIdentity => Path == FakeTeamsConnector.ImdsTokenPath;
}

/// <summary>
/// A local Bot Connector service and Entra token endpoint, on one Kestrel port:
/// <list type="bullet">
/// <item><c>POST /{tenant}/oauth2/v2.0/token</c> — client credentials; grants <c>fake-access-token-N</c> when client id and secret match.</item>
/// <item><c>GET /metadata/identity/oauth2/token</c> — the Azure Instance Metadata Service's managed identity endpoint;
/// grants <c>fake-access-token-N</c> when <c>Metadata: true</c> is sent and <c>client_id</c> is <see cref="ManagedIdentityClientId"/>
/// (configure <see cref="BaseAddress"/> as ManagedIdentityEndpoint).</item>
/// <item><c>POST {service}/v3/conversations</c> → <c>{id: "{channel};messageid=N", activityId: N}</c></item>
/// <item><c>POST {service}/v3/conversations/{id}/activities[/{replyToId}]</c> → <c>{id}</c></item>
/// <item><c>PUT {service}/v3/conversations/{id}/activities/{activityId}</c> → <c>{id}</c></item>
/// </list>
/// <c>{service}</c> is any path prefix (so regional service URLs like <c>/emea/</c> work). Connector
/// calls without a granted bearer token get 401. Every call is recorded; <see cref="FailNext"/>
/// makes the next Connector calls fail (e.g. 429 with Retry-After, or 403 MessageWritesBlocked).
/// </summary>
public sealed class FakeTeamsConnector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ConnectorCall> _calls = new();
    private readonly ConcurrentQueue<TokenRequest> _tokenRequests = new();
    private readonly ConcurrentQueue<PlannedFailure> _failures = new();
    private readonly ConcurrentDictionary<string, byte> _issuedTokens = new(StringComparer.Ordinal);
    private int _sequence;
    private long _nextActivityId = 1_700_000_000_000;

    private sealed record PlannedFailure(int StatusCode, TimeSpan? RetryAfter, string? ErrorCode);

    public const string ImdsTokenPath = "/metadata/identity/oauth2/token";

    private FakeTeamsConnector(WebApplication app, Uri baseAddress, string clientId, string clientSecret)
    {
        _app = app;
        BaseAddress = baseAddress;
        ClientId = clientId;
        ClientSecret = clientSecret;
        ManagedIdentityClientId = clientId;
    }

    public Uri BaseAddress { get; }

    /// <summary>The default service URL, <c>http://127.0.0.1:port/teams/</c> (configure as ServiceUrl).</summary>
    public string ServiceUrl => new Uri(BaseAddress, "teams/").ToString();

    /// <summary>A regional-looking service URL on the same fake, e.g. <c>…/amer/</c>.</summary>
    public string RegionalServiceUrl(string region) => new Uri(BaseAddress, region.Trim('/') + "/").ToString();

    /// <summary>The token endpoint template (configure as TokenEndpoint): <c>http://127.0.0.1:port/{TenantId}/oauth2/v2.0/token</c>.</summary>
    public string TokenEndpoint => BaseAddress + "{TenantId}/oauth2/v2.0/token";

    public string ClientId { get; }

    public string ClientSecret { get; }

    /// <summary>The user-assigned managed identity the fake IMDS grants tokens to; by default the client id.</summary>
    public string ManagedIdentityClientId { get; set; } = "";

    /// <summary>Configure as ManagedIdentityEndpoint: stands in for <c>http://169.254.169.254</c>.</summary>
    public string ManagedIdentityEndpoint => BaseAddress.ToString();

    public IReadOnlyList<ConnectorCall> Calls => _calls.ToArray();

    /// <summary>The expires_in of the tokens the token endpoint issues (Entra's is about an hour).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromSeconds(3599);

    /// <summary>When a new token is issued, the earlier ones stop working (as if they had expired).</summary>
    public bool EarlierTokensExpire { get; set; }

    public IReadOnlyList<TokenRequest> TokenRequests => _tokenRequests.ToArray();

    /// <param name="clientId">The app id (client_id) the token endpoint accepts.</param>
    /// <param name="clientSecret">The secret it accepts.</param>
    public static async Task<FakeTeamsConnector> StartAsync(string clientId, string clientSecret, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        FakeTeamsConnector? fake = null;
        app.MapPost("/{tenant}/oauth2/v2.0/token", (string tenant, HttpContext context) => fake!.TokenAsync(tenant, context));
        app.MapGet(ImdsTokenPath, (HttpContext context) => fake!.ManagedIdentityToken(context));
        app.MapFallback((Func<HttpContext, Task<IResult>>)(context => fake!.ConnectorAsync(context)));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake = new FakeTeamsConnector(app, new Uri(address.TrimEnd('/') + "/"), clientId, clientSecret);
        return fake;
    }

    /// <summary>The next <paramref name="times"/> Connector calls answer <paramref name="statusCode"/> (token requests are not affected).</summary>
    public void FailNext(int statusCode, int times = 1, TimeSpan? retryAfter = null, string? errorCode = null)
    {
        for (var i = 0; i < times; i++)
        {
            _failures.Enqueue(new PlannedFailure(statusCode, retryAfter, errorCode));
        }
    }

    /// <summary>Waits (bounded) until a recorded call matches.</summary>
    public async Task<ConnectorCall> WaitForCallAsync(Func<ConnectorCall, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            if (_calls.FirstOrDefault(predicate) is { } call)
            {
                return call;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The fake Teams Connector saw no matching call. Calls: " +
                                           string.Join(", ", _calls.Select(c => $"{c.Method} {c.RawTarget} → {c.StatusCode}")));
            }

            await Task.Delay(20);
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task<IResult> TokenAsync(string tenant, HttpContext context)
    {
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : null;
        var values = form?.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal) ?? new Dictionary<string, string>();
        var granted = values.GetValueOrDefault("grant_type") == "client_credentials"
                      && values.GetValueOrDefault("client_id") == ClientId
                      && values.GetValueOrDefault("client_secret") == ClientSecret
                      && values.GetValueOrDefault("scope") == "https://api.botframework.com/.default";
        _tokenRequests.Enqueue(new TokenRequest(tenant, values, granted) { Path = context.Request.Path.Value ?? "" });
        if (!granted)
        {
            return Results.Json(new { error = "invalid_client", error_description = "AADSTS7000215: Invalid client secret provided." }, statusCode: 401);
        }

        var token = $"fake-access-token-{Interlocked.Increment(ref _sequence)}";
        if (EarlierTokensExpire)
        {
            _issuedTokens.Clear();
        }

        _issuedTokens[token] = 0;
        var lifetime = (int)TokenLifetime.TotalSeconds;
        return Results.Json(new { token_type = "Bearer", expires_in = lifetime, ext_expires_in = lifetime, access_token = token });
    }

    // As IMDS answers: GET with the Metadata header, resource (not scope), and expiry fields as strings.
    private IResult ManagedIdentityToken(HttpContext context)
    {
        var query = context.Request.Query.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        var granted = context.Request.Headers["Metadata"].ToString() == "true"
                      && query.GetValueOrDefault("resource") == "https://api.botframework.com"
                      && query.GetValueOrDefault("client_id") == ManagedIdentityClientId;
        _tokenRequests.Enqueue(new TokenRequest("", query, granted) { Path = ImdsTokenPath });
        if (!granted)
        {
            return Results.Json(new { error = "invalid_request", error_description = "Identity not found" }, statusCode: 400);
        }

        var token = $"fake-access-token-{Interlocked.Increment(ref _sequence)}";
        _issuedTokens[token] = 0;
        var now = DateTimeOffset.UtcNow;
        string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Json(new Dictionary<string, string>
        {
            ["access_token"] = token,
            ["client_id"] = ManagedIdentityClientId,
            ["expires_in"] = "86399",
            ["expires_on"] = Seconds(now.AddSeconds(86399)),
            ["ext_expires_in"] = "86399",
            ["not_before"] = Seconds(now),
            ["resource"] = "https://api.botframework.com",
            ["token_type"] = "Bearer",
        });
    }

    private async Task<IResult> ConnectorAsync(HttpContext context)
    {
        var request = context.Request;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.ToString();
        var path = request.Path.Value ?? "";
        var at = path.IndexOf("/v3/conversations", StringComparison.Ordinal);
        if (at < 0)
        {
            return Results.NotFound();
        }

        var servicePath = path[..(at + 1)];
        var rest = path[(at + "/v3/conversations".Length)..]; // "", "/{id}/activities", "/{id}/activities/{activityId}"
        string kind;
        string? conversationId = null;
        string? activityId = null;
        if (rest.Length == 0 && HttpMethods.IsPost(request.Method))
        {
            kind = "create";
        }
        else
        {
            var marker = rest.IndexOf("/activities", StringComparison.Ordinal);
            if (!rest.StartsWith('/') || marker < 0)
            {
                return Results.NotFound();
            }

            conversationId = rest[1..marker];
            var tail = rest[(marker + "/activities".Length)..];
            activityId = tail.Length > 1 ? tail[1..] : null;
            kind = (request.Method, activityId) switch
            {
                ("POST", null) => "send",
                ("POST", _) => "reply",
                ("PUT", not null) => "update",
                _ => "unknown",
            };
            if (kind == "unknown")
            {
                return Results.StatusCode(405);
            }
        }

        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body);
        }
        catch (JsonException)
        {
            body = null;
        }

        var authorization = request.Headers.Authorization.ToString();
        var sequence = Interlocked.Increment(ref _sequence);
        IResult result;
        int status;
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !_issuedTokens.ContainsKey(authorization["Bearer ".Length..]))
        {
            status = 401;
            result = Results.Json(new { error = new { code = "Unauthorized", message = "Authorization has been denied for this request." } }, statusCode: status);
        }
        else if (_failures.TryDequeue(out var failure))
        {
            status = failure.StatusCode;
            if (failure.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            result = Results.Json(new { error = new { code = failure.ErrorCode ?? $"Http{status}", message = "Planned failure of the fake Connector." } }, statusCode: status);
        }
        else if (body is null)
        {
            status = 400;
            result = Results.Json(new { error = new { code = "BadSyntax", message = "No JSON body." } }, statusCode: status);
        }
        else
        {
            status = 200;
            switch (kind)
            {
                case "create":
                    var newId = Interlocked.Increment(ref _nextActivityId).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    var channel = body["channelData"]?["channel"]?["id"]?.GetValue<string>() ?? "19:unknown@thread.tacv2";
                    status = 201;
                    result = Results.Json(new { id = $"{channel};messageid={newId}", activityId = newId }, statusCode: status);
                    break;
                case "update":
                    result = Results.Json(new { id = activityId });
                    break;
                default:
                    status = 201;
                    result = Results.Json(new { id = Interlocked.Increment(ref _nextActivityId).ToString(System.Globalization.CultureInfo.InvariantCulture) }, statusCode: status);
                    break;
            }
        }

        _calls.Enqueue(new ConnectorCall(sequence, request.Method, kind, servicePath, rawTarget, conversationId, activityId, authorization, body, status));
        return result;
    }
}
