using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace ApprovalBot.Bench.Infrastructure;

/// <summary>
/// The one client every target is measured with: raw JSON-RPC over MCP Streamable HTTP, one
/// session per instance (initialize, notifications/initialized, then calls). Answers may come as
/// JSON or as an event stream; notifications on the stream (progress) are handed to a callback.
/// </summary>
public sealed class McpSession : IAsyncDisposable
{
    public const string ProtocolVersion = "2025-11-25";

    private static readonly MediaTypeHeaderValue JsonType = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptJson = new("application/json");
    private static readonly MediaTypeWithQualityHeaderValue AcceptEvents = new("text/event-stream");

    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly string? _bearer;
    private string? _sessionId;
    private string _protocol = ProtocolVersion;
    private long _nextId;

    private McpSession(HttpClient http, Uri url, string? bearer)
    {
        _http = http;
        _url = url;
        _bearer = bearer;
    }

    /// <summary>An HTTP client for many concurrent long requests on loopback (no proxy, no pool limit, no timeout).</summary>
    public static HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(30),
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public static async Task<McpSession> OpenAsync(HttpClient http, Uri url, string? bearer = null, CancellationToken cancellationToken = default)
    {
        var session = new McpSession(http, url, bearer);
        var init = await session.SendAsync(
            "initialize",
            $$$"""{"protocolVersion":"{{{ProtocolVersion}}}","capabilities":{},"clientInfo":{"name":"approvalbot-bench","version":"1.0.0"}}""",
            null,
            cancellationToken);
        if (init.TryGetProperty("protocolVersion", out var version) && version.GetString() is { } negotiated)
        {
            session._protocol = negotiated;
        }

        await session.NotifyAsync("notifications/initialized", cancellationToken);
        return session;
    }

    /// <summary>tools/call; returns the result object (which may carry isError). JSON-RPC errors throw.</summary>
    public Task<JsonElement> CallToolAsync(string name, string argumentsJson, string? progressToken = null, Action<JsonElement>? onNotification = null, CancellationToken cancellationToken = default)
    {
        var meta = progressToken is null ? "" : $$""","_meta":{"progressToken":"{{progressToken}}"}""";
        return SendAsync("tools/call", $$"""{"name":"{{name}}","arguments":{{argumentsJson}}{{meta}}}""", onNotification, cancellationToken);
    }

    /// <summary>The first text block of a tool result.</summary>
    public static string Text(JsonElement result) =>
        result.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array && content.GetArrayLength() > 0
        && content[0].TryGetProperty("text", out var text) ? text.GetString() ?? "" : "";

    public static bool IsError(JsonElement result) =>
        result.TryGetProperty("isError", out var isError) && isError.ValueKind == JsonValueKind.True;

    private async Task NotifyAsync(string method, CancellationToken cancellationToken)
    {
        using var request = NewRequest(HttpMethod.Post, Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","method":"{{method}}"}"""));
        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new McpCallException($"{method}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private async Task<JsonElement> SendAsync(string method, string paramsJson, Action<JsonElement>? onNotification, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        var body = Encoding.UTF8.GetBytes($$"""{"jsonrpc":"2.0","id":{{id}},"method":"{{method}}","params":{{paramsJson}}}""");
        using var request = NewRequest(HttpMethod.Post, body);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new McpCallException($"{method}: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        if (_sessionId is null && response.Headers.TryGetValues("Mcp-Session-Id", out var values))
        {
            _sessionId = values.FirstOrDefault();
        }

        if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var data = new StringBuilder();
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    if (data.Length > 0)
                    {
                        data.Append('\n');
                    }

                    data.Append(line.AsSpan(5).TrimStart(' '));
                }
                else if (line.Length == 0 && data.Length > 0)
                {
                    var message = JsonSerializer.Deserialize<JsonElement>(data.ToString());
                    data.Clear();
                    if (message.TryGetProperty("id", out var messageId) && messageId.ValueKind == JsonValueKind.Number && messageId.GetInt64() == id)
                    {
                        return Unwrap(method, message);
                    }

                    onNotification?.Invoke(message);
                }
            }

            throw new McpCallException($"{method}: the event stream ended without the response");
        }

        var json = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(cancellationToken));
        return Unwrap(method, json);
    }

    private HttpRequestMessage NewRequest(HttpMethod method, byte[]? body)
    {
        var request = new HttpRequestMessage(method, _url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = JsonType;
        }

        request.Headers.Accept.Add(AcceptJson);
        request.Headers.Accept.Add(AcceptEvents);
        if (_sessionId is not null)
        {
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", _sessionId);
            request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", _protocol);
        }

        if (_bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _bearer);
        }

        return request;
    }

    private static JsonElement Unwrap(string method, JsonElement message)
    {
        if (message.TryGetProperty("error", out var error))
        {
            throw new McpCallException($"{method}: JSON-RPC error {error.GetRawText()}");
        }

        return message.TryGetProperty("result", out var result) ? result : throw new McpCallException($"{method}: no result in {message.GetRawText()}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_sessionId is null)
        {
            return;
        }

        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using var request = NewRequest(HttpMethod.Delete, null);
            using var _ = await _http.SendAsync(request, cts.Token);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // Best effort: the target forgets idle sessions on its own.
        }
    }
}

public sealed class McpCallException(string message) : Exception(message);
