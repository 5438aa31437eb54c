using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Reflection;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>
/// Forwarded requests to a Streamable HTTP upstream, sent on the SDK client's session (its
/// <c>Mcp-Session-Id</c> and negotiated <c>MCP-Protocol-Version</c>) but read by the caller itself:
/// one POST with a Content-Length body, the answer as JSON or as an event stream whose events are
/// handled in order on the caller's own flow — relayed notifications delivered before the answer,
/// server requests (sampling, elicitation, roots) handed to the SDK client — and the answer returned
/// without a single hand-over to another thread.
/// </summary>
/// <remarks>
/// The SDK's <c>HttpClientTransport</c> writes every answer into a channel that the client's message
/// loop reads, which starts a task per message that yields before completing the request's
/// <see cref="TaskCompletionSource"/>, whose continuation runs on yet another pool thread; with the
/// gateway's ordered relay in front of it, four thread wake-ups per call. Where the client shares two
/// cores with its server, each wake-up and the spinning that comes with it is time taken from the
/// server (see BENCHMARKS.md). Everything else on the connection (initialize, lists, pings, the GET
/// stream, session expiry, DELETE) stays with the SDK transport. Resumption (Last-Event-ID) is not
/// needed here: a broken stream fails the call as it would without an event store.
/// </remarks>
internal sealed class HttpDirectRequests(Uri endpoint, IDictionary<string, string>? headers) : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptEvents = new("text/event-stream");
    private static readonly JsonSerializerOptions Json = McpJsonUtilities.DefaultOptions;

    /// <summary>The SDK's tracing: while anyone listens to it, requests go through the SDK client, which propagates the trace.</summary>
    private static readonly ActivitySource SdkActivitySource = new("Experimental.ModelContextProtocol");

    /// <summary>Versions of the initialize handshake (sessions where the server gives one), whose requests carry no per-request envelope.</summary>
    private static readonly HashSet<string> SessionVersions = new(StringComparer.Ordinal) { "2025-03-26", "2025-06-18", "2025-11-25" };

    private static readonly Func<JsonRpcError, McpProtocolException>? SdkRemoteError = typeof(McpProtocolException).Assembly
        .GetType("ModelContextProtocol.McpSessionHandler")?
        .GetMethod("CreateRemoteProtocolExceptionFromError", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(JsonRpcError)])?
        .CreateDelegate<Func<JsonRpcError, McpProtocolException>>();

    // As the SDK transport's own client: default handler, default timeout (to the response headers).
    private readonly HttpClient _http = new();

    /// <summary>True when this request can go direct: a protocol version of the initialize handshake and nobody tracing the SDK.</summary>
    public static bool Applies(string? protocolVersion) =>
        protocolVersion is not null && SessionVersions.Contains(protocolVersion) && !SdkActivitySource.HasListeners();

    /// <summary>The SDK client's exception for a JSON-RPC error answer.</summary>
    public static McpProtocolException RemoteError(JsonRpcError error) =>
        SdkRemoteError?.Invoke(error) ?? new McpProtocolException($"Request failed (remote): {error.Error.Message}", (McpErrorCode)error.Error.Code);

    /// <summary>
    /// Sends <paramref name="request"/> and returns its answer (a response or an error); null when the
    /// upstream refused the POST itself (a 4xx: the request did not run), so the caller can send it the
    /// SDK's way, which also notices an expired session.
    /// </summary>
    public async Task<JsonRpcMessage?> SendAsync(
        JsonRpcRequest request, string? sessionId, string protocolVersion, OrderedRelayTransport relay, OrderedRelayTransport.Session session, CancellationToken cancellationToken)
    {
        using var http = new HttpRequestMessage(HttpMethod.Post, endpoint)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes<JsonRpcMessage>(request, Json)),
        };
        http.Content.Headers.ContentType = JsonType;
        http.Headers.Accept.Add(AcceptJson);
        http.Headers.Accept.Add(AcceptEvents);
        if (sessionId is not null)
        {
            // A stateless server gave none.
            http.Headers.TryAddWithoutValidation("Mcp-Session-Id", sessionId);
        }

        http.Headers.TryAddWithoutValidation("MCP-Protocol-Version", protocolVersion);
        if (headers is not null)
        {
            foreach (var (name, value) in headers)
            {
                if (!http.Headers.TryAddWithoutValidation(name, value))
                {
                    return null;
                }
            }
        }

        using var response = await _http.SendAsync(http, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if ((int)response.StatusCode is >= 400 and < 500)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        switch (response.Content.Headers.ContentType?.MediaType)
        {
            case "application/json":
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (body.Length > 0 && Parse(body) is { } single)
                {
                    if (IsAnswer(single, request.Id))
                    {
                        return single;
                    }

                    await HandleAsync(single, relay, session);
                }

                break;
            case "text/event-stream":
                await using (var stream = await response.Content.ReadAsStreamAsync(cancellationToken))
                {
                    await foreach (var item in SseParser.Create(stream, static (_, data) => Parse(data)).EnumerateAsync(cancellationToken))
                    {
                        if (item.Data is not { } message)
                        {
                            continue;
                        }

                        if (IsAnswer(message, request.Id))
                        {
                            return message;
                        }

                        await HandleAsync(message, relay, session);
                    }
                }

                break;
        }

        throw new McpException($"Streamable HTTP POST response completed without a reply to request with ID: {request.Id}");
    }

    private static bool IsAnswer(JsonRpcMessage message, RequestId id) =>
        message is JsonRpcResponse or JsonRpcError && ((JsonRpcMessageWithId)message).Id == id;

    /// <summary>In order, on this flow: relayed notifications now; anything else to the SDK client (server requests, other notifications).</summary>
    private static async ValueTask HandleAsync(JsonRpcMessage message, OrderedRelayTransport relay, OrderedRelayTransport.Session session)
    {
        if (relay.IsRelayed(message))
        {
            await relay.RelayAsync((JsonRpcNotification)message, session.Stopping);
        }
        else
        {
            session.Deliver(message);
        }
    }

    private static JsonRpcMessage? Parse(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            // The priming event of a resumable stream carries an id and no data.
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<JsonRpcMessage>(data, Json);
        }
        catch (JsonException)
        {
            // As the SDK transport: a message that does not parse is skipped.
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
