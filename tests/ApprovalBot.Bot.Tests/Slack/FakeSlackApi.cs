using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>One request the fake Slack Web API received, as it arrived.</summary>
/// <param name="Sequence">1, 2, 3… in arrival order.</param>
/// <param name="Method">The Web API method, e.g. chat.postMessage.</param>
/// <param name="Authorization">The Authorization header as sent (Bearer …).</param>
/// <param name="Json">The body parsed as JSON (null when it was not JSON, e.g. a form).</param>
/// <param name="StatusCode">What the fake answered (200, or 429 when told to rate-limit).</param>
/// <param name="Error">The ok:false error the fake answered with, if any.</param>
public sealed record SlackApiCall(
    int Sequence,
    string Method,
    string? Authorization,
    string? ContentType,
    string Body,
    JsonNode? Json,
    int StatusCode,
    string? Error,
    DateTimeOffset ReceivedAt)
{
    public bool Succeeded => StatusCode == 200 && Error is null;

    /// <summary>A string property of the JSON body, e.g. <c>call.Get("channel")</c>.</summary>
    public string? Get(string property) => Json?[property]?.GetValue<string>();

    /// <summary>The Block Kit blocks of a chat.postMessage / chat.update body (empty when none).</summary>
    public IReadOnlyList<JsonNode> Blocks => Json?["blocks"] is JsonArray blocks ? blocks.Where(b => b is not null).Select(b => b!).ToArray() : [];

    /// <summary>Whether the message still has buttons (an <c>actions</c> block).</summary>
    public bool HasActionsBlock => Blocks.Any(b => b["type"]?.GetValue<string>() == "actions");

    /// <summary>
    /// The approval id on an ApprovalBot card: the buttons' value, else the first GUID in the
    /// card's context line. Null when the message is not a card.
    /// </summary>
    public Guid? ApprovalId
    {
        get
        {
            foreach (var block in Blocks)
            {
                if (block["elements"] is JsonArray elements)
                {
                    foreach (var element in elements)
                    {
                        var text = element?["type"]?.GetValue<string>() == "button" ? element["value"]?.GetValue<string>() : element?["text"]?.GetValue<string>();
                        var match = text is null ? null : System.Text.RegularExpressions.Regex.Match(text, "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
                        if (match is { Success: true } && Guid.TryParse(match.Value, out var id))
                        {
                            return id;
                        }
                    }
                }
            }

            return null;
        }
    }
}

/// <summary>
/// An in-process stand-in for Slack: a Kestrel server on 127.0.0.1 that answers the Web API methods
/// ApprovalBot uses (chat.postMessage, chat.update, chat.postEphemeral, views.open,
/// apps.connections.open, auth.test), records every call, can be told to answer 429 with
/// Retry-After or ok:false, and serves Socket Mode WebSockets. Point <c>ApprovalBot:Slack:ApiBaseUrl</c>
/// at <see cref="ApiBaseUrl"/>. Depends only on ASP.NET Core, so other test projects can link this file.
/// </summary>
public sealed class FakeSlackApi : IAsyncDisposable
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentQueue<SlackApiCall> _calls = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Scripted>> _scripted = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<FakeSocketConnection> _sockets = new();
    private readonly SemaphoreSlim _changed = new(0);
    private int _sequence;
    private int _socketUrls;
    private int _messageTs;
    private int _socketEvents;

    private FakeSlackApi(WebApplication app, TimeProvider timeProvider)
    {
        _app = app;
        _timeProvider = timeProvider;
    }

    /// <summary>e.g. http://127.0.0.1:54321/api/ — the value for ApprovalBot:Slack:ApiBaseUrl.</summary>
    public Uri ApiBaseUrl { get; private set; } = null!;

    public const string DefaultBotToken = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy";
    public const string DefaultAppToken = "xapp-1-A0APP-1234567890-abcdef";

    /// <summary>The workspace's bot token: Web API calls without it are answered not_authed, with another invalid_auth (as Slack does).</summary>
    public string BotToken { get; set; } = DefaultBotToken;

    /// <summary>The app-level token apps.connections.open needs (an xapp- token; a bot token is not_allowed_token_type).</summary>
    public string AppToken { get; set; } = DefaultAppToken;

    /// <summary>Every payload refused for breaking Block Kit's limits (<see cref="BlockKitLimits"/>): method and problems.</summary>
    public IReadOnlyList<(string Method, IReadOnlyList<string> Problems)> InvalidPayloads => _invalid.ToArray();

    private readonly ConcurrentQueue<(string Method, IReadOnlyList<string> Problems)> _invalid = new();

    /// <summary>Messages Slack knows, by channel and ts: chat.update of any other is message_not_found.</summary>
    private readonly ConcurrentDictionary<(string Channel, string Ts), byte> _messages = new();

    /// <summary>A message posted before the test started (e.g. one an interaction payload refers to).</summary>
    public void RememberMessage(string channel, string ts) => _messages[(channel, ts)] = 0;

    /// <summary>Whether a new Socket Mode connection is greeted with {"type":"hello"} (true by default).</summary>
    public bool SendHelloOnConnect { get; set; } = true;

    public IReadOnlyList<SlackApiCall> Calls => _calls.ToArray();

    public IReadOnlyList<FakeSocketConnection> Sockets => _sockets.ToArray();

    public static async Task<FakeSlackApi> StartAsync(TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeSlackApi(app, timeProvider ?? TimeProvider.System);
        app.UseWebSockets();
        app.MapPost("/api/{method}", (HttpContext context, string method) => fake.HandleApiAsync(context, method));
        app.Map("/socket/{id:int}", (HttpContext context, int id) => fake.HandleSocketAsync(context, id));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        fake.ApiBaseUrl = new Uri(app.Urls.First().TrimEnd('/') + "/api/");
        return fake;
    }

    public IReadOnlyList<SlackApiCall> CallsTo(string method) => _calls.Where(c => c.Method == method).ToArray();

    /// <summary>The next <paramref name="times"/> calls to <paramref name="method"/> get HTTP 429 with Retry-After.</summary>
    public void RateLimitNext(string method, int retryAfterSeconds, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            Script(method, new Scripted(429, null, retryAfterSeconds));
        }
    }

    /// <summary>The next <paramref name="times"/> calls to <paramref name="method"/> get HTTP 200 {"ok":false,"error":…}.</summary>
    public void FailNext(string method, string error, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            Script(method, new Scripted(200, error, null));
        }
    }

    /// <summary>Waits (bounded) for a call to <paramref name="method"/> matching <paramref name="match"/>; throws TimeoutException.</summary>
    public async Task<SlackApiCall> WaitForCallAsync(string method, Func<SlackApiCall, bool>? match = null, TimeSpan? timeout = null)
    {
        var found = await WaitForCallsAsync(method, 1, match, timeout).ConfigureAwait(false);
        return found[0];
    }

    /// <summary>
    /// The ts this fake gave a successful chat.postMessage: the n-th is <c>17000{n:00000}.{n:000000}</c>
    /// (what a test clicks on; which ts the bot stored shows in the chat.update it sends).
    /// </summary>
    public string TsOf(SlackApiCall post) =>
        Ts(CallsTo("chat.postMessage").Count(c => c.Succeeded && c.Sequence <= post.Sequence));

    private static string Ts(long n) => $"17000{n:00000}.{n:000000}";

    private static string Snippet(string? text) => text is null ? "" : text.Length > 120 ? text[..120] + "…" : text;

    /// <summary>Waits (bounded) until at least <paramref name="count"/> matching calls arrived.</summary>
    public async Task<IReadOnlyList<SlackApiCall>> WaitForCallsAsync(string method, int count, Func<SlackApiCall, bool>? match = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultWait);
        while (true)
        {
            var found = _calls.Where(c => c.Method == method && (match is null || match(c))).ToArray();
            if (found.Length >= count)
            {
                return found;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                // Each call with what it said, so a failure on a loaded CI machine explains itself.
                var calls = string.Join("; ", _calls.Select(c => $"{c.Method} {c.ApprovalId} {c.Error ?? "ok"} \"{Snippet(c.Get("text"))}\""));
                throw new TimeoutException($"Expected {count} call(s) to {method}; saw {found.Length}. All calls: {calls}");
            }

            await _changed.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
        }
    }

    /// <summary>Waits (bounded) for the <paramref name="index"/>-th (1-based) Socket Mode connection.</summary>
    public async Task<FakeSocketConnection> WaitForSocketAsync(int index, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultWait);
        while (true)
        {
            var socket = _sockets.FirstOrDefault(s => s.Index == index);
            if (socket is not null)
            {
                return socket;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Socket Mode connection {index} was not opened; {_sockets.Count} so far.");
            }

            await _changed.WaitAsync(TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _sockets)
        {
            socket.Abort();
        }

        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _changed.Dispose();
    }

    private void Script(string method, Scripted scripted) =>
        _scripted.GetOrAdd(method, _ => new ConcurrentQueue<Scripted>()).Enqueue(scripted);

    private async Task HandleApiAsync(HttpContext context, string method)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        JsonNode? json = null;
        if (context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true && body.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(body);
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        var sequence = Interlocked.Increment(ref _sequence);
        var status = 200;
        string? error = null;
        JsonObject answer;

        if (_scripted.TryGetValue(method, out var queue) && queue.TryDequeue(out var scripted))
        {
            status = scripted.Status;
            error = scripted.Error;
            if (scripted.RetryAfter is { } seconds)
            {
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            answer = status == 429 ? new JsonObject { ["ok"] = false, ["error"] = "ratelimited" } : new JsonObject { ["ok"] = false, ["error"] = error };
        }
        else
        {
            error = Authorize(method, authorization);
            answer = error is null ? Answer(method, json) : new JsonObject { ["ok"] = false, ["error"] = error };
            if (answer["ok"]?.GetValue<bool>() == false)
            {
                error = answer["error"]?.GetValue<string>();
            }
        }

        _calls.Enqueue(new SlackApiCall(sequence, method, authorization.Length == 0 ? null : authorization, context.Request.ContentType, body, json, status, error, _timeProvider.GetUtcNow()));
        _changed.Release();

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private string? Authorize(string method, string authorization)
    {
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || authorization.Length <= 7)
        {
            return "not_authed";
        }

        var token = authorization[7..];
        var appLevel = method == "apps.connections.open";
        if (appLevel != token.StartsWith("xapp-", StringComparison.Ordinal))
        {
            return "not_allowed_token_type";
        }

        return token != (appLevel ? AppToken : BotToken) ? "invalid_auth" : null;
    }

    private JsonObject Answer(string method, JsonNode? json)
    {
        var channel = json?["channel"]?.GetValue<string>();
        var problems = method switch
        {
            "chat.postMessage" or "chat.update" or "chat.postEphemeral" => BlockKitLimits.CheckMessage(json),
            "views.open" or "views.update" or "views.push" => BlockKitLimits.CheckView(json?["view"]),
            _ => [],
        };
        if (problems.Count > 0)
        {
            _invalid.Enqueue((method, problems));
            return new JsonObject { ["ok"] = false, ["error"] = "invalid_blocks", ["errors"] = new JsonArray(problems.Select(p => (JsonNode?)JsonValue.Create(p)).ToArray()) };
        }

        switch (method)
        {
            case "chat.postMessage":
                if (string.IsNullOrEmpty(channel))
                {
                    return new JsonObject { ["ok"] = false, ["error"] = "channel_not_found" };
                }

                var n = Interlocked.Increment(ref _messageTs);
                var ts = Ts(n);
                _messages[(channel, ts)] = 0;
                return new JsonObject
                {
                    ["ok"] = true,
                    ["channel"] = channel,
                    ["ts"] = ts,
                    ["message"] = new JsonObject { ["text"] = json?["text"]?.DeepClone(), ["ts"] = ts, ["blocks"] = json?["blocks"]?.DeepClone() },
                };
            case "chat.update":
                if (channel is null || json?["ts"]?.GetValue<string>() is not { } updated || !_messages.ContainsKey((channel, updated)))
                {
                    return new JsonObject { ["ok"] = false, ["error"] = string.IsNullOrEmpty(channel) ? "channel_not_found" : "message_not_found" };
                }

                return new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = json?["ts"]?.DeepClone(), ["text"] = json?["text"]?.DeepClone() };
            case "chat.postEphemeral":
                return new JsonObject { ["ok"] = true, ["message_ts"] = $"{_timeProvider.GetUtcNow().ToUnixTimeSeconds()}.000001" };
            case "views.open":
                return new JsonObject { ["ok"] = true, ["view"] = new JsonObject { ["id"] = $"V{Interlocked.Increment(ref _messageTs):00000000}" } };
            case "auth.test":
                return new JsonObject { ["ok"] = true, ["user_id"] = "UBOT", ["team_id"] = "T0FAKE", ["bot_id"] = "BFAKE" };
            case "apps.connections.open":
                var id = Interlocked.Increment(ref _socketUrls);
                var url = new UriBuilder(ApiBaseUrl) { Scheme = "ws", Path = $"/socket/{id}" }.Uri;
                return new JsonObject { ["ok"] = true, ["url"] = url.ToString() };
            default:
                return new JsonObject { ["ok"] = false, ["error"] = "unknown_method" };
        }
    }

    private async Task HandleSocketAsync(HttpContext context, int id)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = (int)HttpStatusCode.BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var connection = new FakeSocketConnection(_sockets.Count + 1, id, socket, () => Interlocked.Increment(ref _socketEvents));
        _sockets.Enqueue(connection);
        _changed.Release();
        if (SendHelloOnConnect)
        {
            await connection.SendAsync(new JsonObject { ["type"] = "hello", ["num_connections"] = _sockets.Count }).ConfigureAwait(false);
        }

        await connection.RunAsync().ConfigureAwait(false);
    }

    private sealed record Scripted(int Status, string? Error, int? RetryAfter);
}

/// <summary>The server side of one Socket Mode WebSocket in <see cref="FakeSlackApi"/>.</summary>
public sealed class FakeSocketConnection
{
    private readonly WebSocket _socket;
    private readonly Channel<JsonNode> _received = Channel.CreateUnbounded<JsonNode>();
    private readonly ConcurrentQueue<JsonNode> _all = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<int> _nextOrder;

    internal FakeSocketConnection(int index, int urlId, WebSocket socket, Func<int> nextOrder)
    {
        Index = index;
        UrlId = urlId;
        _socket = socket;
        _nextOrder = nextOrder;
        OpenedOrder = nextOrder();
    }

    /// <summary>Position of this socket's opening among all socket openings and closings of the fake.</summary>
    public int OpenedOrder { get; }

    /// <summary>Position of this socket's closing (0 while open): compare with another socket's <see cref="OpenedOrder"/>.</summary>
    public int ClosedOrder { get; private set; }

    /// <summary>1 for the first connection the client opened, 2 for the next…</summary>
    public int Index { get; }

    /// <summary>Which apps.connections.open answer (1-based) the client connected with.</summary>
    public int UrlId { get; }

    /// <summary>Completes when the client closed the socket (or it broke).</summary>
    public Task Closed => _closed.Task;

    /// <summary>Everything the client sent so far (acks).</summary>
    public IReadOnlyList<JsonNode> Received => _all.ToArray();

    public async Task SendAsync(JsonNode message)
    {
        await _sendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends an envelope <c>{envelope_id, type, payload, accepts_response_payload}</c>; returns its envelope_id.</summary>
    public async Task<string> SendEnvelopeAsync(string type, JsonNode payload, string? envelopeId = null, int retryAttempt = 0)
    {
        envelopeId ??= Guid.NewGuid().ToString();
        await SendAsync(new JsonObject
        {
            ["envelope_id"] = envelopeId,
            ["type"] = type,
            ["payload"] = payload,
            ["accepts_response_payload"] = type is "slash_commands" or "interactive",
            ["retry_attempt"] = retryAttempt,
            ["retry_reason"] = retryAttempt > 0 ? "timeout" : "",
        }).ConfigureAwait(false);
        return envelopeId;
    }

    public Task SendDisconnectAsync(string reason = "refresh_requested") =>
        SendAsync(new JsonObject { ["type"] = "disconnect", ["reason"] = reason, ["debug_info"] = new JsonObject { ["host"] = "fake" } });

    /// <summary>Waits (bounded) for the client's acknowledgement of <paramref name="envelopeId"/>.</summary>
    public async Task<JsonNode> WaitForAckAsync(string envelopeId, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? FakeSlackApi.DefaultWait);
        try
        {
            while (true)
            {
                var message = await _received.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (message["envelope_id"]?.GetValue<string>() == envelopeId)
                {
                    return message;
                }
            }
        }
        catch (OperationCanceledException)
        {
            var existing = _all.FirstOrDefault(m => m["envelope_id"]?.GetValue<string>() == envelopeId);
            return existing ?? throw new TimeoutException($"No acknowledgement of envelope {envelopeId} on socket {Index}.");
        }
    }

    internal void Abort()
    {
        try
        {
            _socket.Abort();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    internal async Task RunAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await _sendLock.WaitAsync().ConfigureAwait(false);
                    try
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).ConfigureAwait(false);
                    }
                    finally
                    {
                        _sendLock.Release();
                    }

                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var node = JsonNode.Parse(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
                message.SetLength(0);
                if (node is not null)
                {
                    _all.Enqueue(node);
                    _received.Writer.TryWrite(node);
                }
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            ClosedOrder = _nextOrder();
            _closed.TrySetResult();
        }
    }
}
