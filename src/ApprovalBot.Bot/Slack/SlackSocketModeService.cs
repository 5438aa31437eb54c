using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Socket Mode (<see cref="SlackOptions.AppToken"/> set): receives interactions, slash commands and
/// events over a WebSocket opened from inside the network, so no public URL is needed. Envelopes go
/// to the same handlers as HTTP mode and are acknowledged with their envelope_id (and the reply, for
/// slash commands). On <c>disconnect</c> a new socket is opened before the old one is closed; failures
/// reconnect with back-off.
/// </summary>
internal sealed class SlackSocketModeService(
    SlackApiClient api,
    SlackInteractionHandler interactions,
    SlackCommandHandler commands,
    SlackEventHandler events,
    TimeProvider timeProvider,
    ILogger<SlackSocketModeService> logger) : BackgroundService
{
    public static readonly IReadOnlyList<TimeSpan> ReconnectDelays =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)];

    public const int MaxMessageBytes = 4 * 1024 * 1024;

    private int _connections;

    private ILogger Logger { get; } = logger;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Connection? current = null;
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Connection next;
                try
                {
                    next = await ConnectAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    var delay = ReconnectDelays[Math.Min(failures++, ReconnectDelays.Count - 1)];
                    SlackLog.SocketFailed(Logger, e, delay);
                    await Task.Delay(delay, timeProvider, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                if (current is not null)
                {
                    // Replaced after a disconnect request: the new socket is open, so the old one may go.
                    await current.CloseAsync().ConfigureAwait(false);
                }

                current = next;
                var ended = await Task.WhenAny(current.DisconnectRequested, current.Completion).ConfigureAwait(false);
                if (ended == current.DisconnectRequested)
                {
                    failures = 0;
                    continue;
                }

                // The socket ended without a disconnect request: reconnect, with back-off if it keeps happening.
                failures = current.SaidHello ? 0 : failures;
                var wait = ReconnectDelays[Math.Min(failures++, ReconnectDelays.Count - 1)];
                if (current.Completion.Exception?.GetBaseException() is { } error)
                {
                    SlackLog.SocketFailed(Logger, error, wait);
                }
                else
                {
                    SlackLog.SocketClosed(Logger, current.Id);
                }

                await current.CloseAsync().ConfigureAwait(false);
                current = null;
                await Task.Delay(wait, timeProvider, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (current is not null)
            {
                await current.CloseAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<Connection> ConnectAsync(CancellationToken stoppingToken)
    {
        var url = await api.OpenSocketConnectionAsync(stoppingToken).ConfigureAwait(false);
        var socket = new ClientWebSocket();
        try
        {
            await socket.ConnectAsync(url, stoppingToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new Connection(this, socket, Interlocked.Increment(ref _connections), stoppingToken);
        SlackLog.SocketConnected(Logger, connection.Id);
        connection.Start();
        return connection;
    }

    private async Task<JsonNode?> DispatchAsync(string? type, JsonElement payload, string? retry, CancellationToken cancellationToken) => type switch
    {
        "interactive" => interactions.Handle(payload, retry),
        "slash_commands" => await commands.HandleAsync(SlackSlashCommand.FromJson(payload), cancellationToken).ConfigureAwait(false),
        "events_api" => events.Handle(payload),
        _ => null,
    };

    /// <summary>One WebSocket: a receive loop that answers envelopes, and a send lock (one send at a time).</summary>
    private sealed class Connection(SlackSocketModeService owner, ClientWebSocket socket, int id, CancellationToken stoppingToken)
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        private readonly SemaphoreSlim _sendLock = new(1, 1);
        private readonly TaskCompletionSource _disconnect = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _closed;

        public int Id { get; } = id;

        public bool SaidHello { get; private set; }

        public Task Completion { get; private set; } = Task.CompletedTask;

        public Task DisconnectRequested => _disconnect.Task;

        private ILogger Logger => owner.Logger;

        public void Start() => Completion = Task.Run(() => ReceiveLoopAsync(_stop.Token));

        public async Task CloseAsync()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 1)
            {
                return;
            }

            try
            {
                if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
                    try
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "replaced", timeout.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        _sendLock.Release();
                    }
                }
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }

            // Let the receive loop see the close handshake, then stop it.
            await Task.WhenAny(Completion, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
            await _stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Completion.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Already reported by the supervisor when it mattered.
            }

            socket.Dispose();
            _stop.Dispose();
            SlackLog.SocketClosed(Logger, Id);
        }

        private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                using var message = new MemoryStream();
                while (!cancellationToken.IsCancellationRequested)
                {
                    var result = await socket.ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (socket.State == WebSocketState.CloseReceived)
                        {
                            await SendCloseAsync(cancellationToken).ConfigureAwait(false);
                        }

                        return;
                    }

                    if (message.Length + result.Count > MaxMessageBytes)
                    {
                        throw new InvalidDataException("A Socket Mode message exceeded the size limit.");
                    }

                    message.Write(buffer, 0, result.Count);
                    if (!result.EndOfMessage)
                    {
                        continue;
                    }

                    if (result.MessageType == WebSocketMessageType.Text)
                    {
                        await HandleMessageAsync(message.GetBuffer().AsMemory(0, (int)message.Length), cancellationToken).ConfigureAwait(false);
                    }

                    message.SetLength(0);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (WebSocketException) when (Volatile.Read(ref _closed) == 1)
            {
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private async Task HandleMessageAsync(ReadOnlyMemory<byte> text, CancellationToken cancellationToken)
        {
            JsonElement root;
            try
            {
                using var document = JsonDocument.Parse(text);
                root = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                SlackLog.MalformedPayload(Logger, "socket mode", "not JSON");
                return;
            }

            var type = SlackJson.ReadString(root, "type");
            switch (type)
            {
                case "hello":
                    SaidHello = true;
                    SlackLog.SocketHello(Logger, Id);
                    return;
                case "disconnect":
                    SlackLog.SocketDisconnectRequested(Logger, Id, SlackJson.ReadString(root, "reason"));
                    _disconnect.TrySetResult();
                    return;
            }

            var envelopeId = SlackJson.ReadString(root, "envelope_id");
            if (envelopeId is null)
            {
                SlackLog.UnhandledPayload(Logger, "socket mode", type);
                return;
            }

            JsonNode? reply = null;
            try
            {
                if (root.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object)
                {
                    var retry = root.TryGetProperty("retry_attempt", out var attempt) && attempt.ValueKind == JsonValueKind.Number && attempt.GetInt32() > 0
                        ? attempt.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)
                        : null;
                    reply = await owner.DispatchAsync(type, payload, retry, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Still acknowledged below: Slack would only redeliver the same failing envelope.
                SlackLog.SocketEnvelopeFailed(Logger, e, envelopeId, type);
            }

            var ack = new JsonObject { ["envelope_id"] = envelopeId };
            if (reply is not null)
            {
                ack["payload"] = reply;
            }

            await SendAsync(ack.ToJsonString(SlackApiClient.JsonOptions), cancellationToken).ConfigureAwait(false);
        }

        private async Task SendAsync(string text, CancellationToken cancellationToken)
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }

        private async Task SendCloseAsync(CancellationToken cancellationToken)
        {
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketException)
            {
            }
            finally
            {
                _sendLock.Release();
            }
        }
    }
}
