using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>
/// Sits between an upstream's transport and the SDK client, so that what an upstream says while it
/// works on a request reaches the agent before the request's answer, in the upstream's order.
/// </summary>
/// <remarks>
/// The SDK handles every incoming message on a task of its own: a notification handler and the
/// response after it race, and a progress notification that loses arrives after its request has
/// completed, which clients drop. Here the relayed notifications are delivered one by one, in the
/// order they came, each before any later message (a response above all) goes on to the SDK.
/// </remarks>
internal sealed partial class OrderedRelayTransport(
    IClientTransport inner,
    IReadOnlySet<string> relayedMethods,
    Func<JsonRpcNotification, CancellationToken, ValueTask> relay,
    TimeProvider time,
    ILogger logger) : IClientTransport
{
    private readonly IReadOnlySet<string> _relayedMethods = relayedMethods;
    private readonly Func<JsonRpcNotification, CancellationToken, ValueTask> _relay = relay;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    /// <summary>
    /// An agent that has not taken a notification within this is stalled; the notification is
    /// dropped so that one stalled agent cannot hold up everyone else's calls to the upstream.
    /// </summary>
    public static readonly TimeSpan DeliveryLimit = TimeSpan.FromSeconds(5);

    private volatile Session? _current;

    public string Name => inner.Name;

    /// <summary>The session of the last <see cref="ConnectAsync"/>: what the connection's own requests go through.</summary>
    public Session? Current => _current;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default)
    {
        var session = new Session(await inner.ConnectAsync(cancellationToken), this);
        _current = session;
        return session;
    }

    /// <summary>Relays one notification now, bounded by <see cref="DeliveryLimit"/>; never throws for a notification nobody took.</summary>
    public async Task RelayAsync(JsonRpcNotification notification, CancellationToken stopping)
    {
        using var limit = new CancellationTokenSource(DeliveryLimit, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, limit.Token);
        try
        {
            await _relay(notification, linked.Token);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            // One notification that cannot be delivered never ends the upstream connection.
            LogRelayFailed(_logger, Name, notification.Method, limit.IsCancellationRequested ? "not taken in time" : e.Message);
        }
    }

    public bool IsRelayed(JsonRpcMessage message) =>
        message is JsonRpcNotification notification && _relayedMethods.Contains(notification.Method);

    /// <remarks>
    /// Besides the SDK client's traffic, a session carries the gateway's own forwarded requests
    /// (<see cref="SendRequestAsync"/>): their answers are taken off the stream here, after the
    /// notifications before them were relayed, and never go through the SDK client's dispatch (a
    /// channel, a loop and two task hops per answer, each a thread wake-up on a busy machine).
    /// </remarks>
    public sealed class Session : ITransport
    {
        private static long s_nextId = 1L << 40;

        private readonly ITransport _inner;
        private readonly OrderedRelayTransport _owner;
        // Written by the pump and by direct HTTP calls handing server requests to the SDK client.
        private readonly Channel<JsonRpcMessage> _messages = Channel.CreateUnbounded<JsonRpcMessage>();
        private readonly ConcurrentDictionary<RequestId, TaskCompletionSource<JsonRpcMessage>> _pending = new();
        private readonly CancellationTokenSource _stopping = new();
        private readonly Task _pump;
        private volatile Exception? _closed;

        public Session(ITransport inner, OrderedRelayTransport owner)
        {
            _inner = inner;
            _owner = owner;
            _pump = PumpAsync();
        }

        public string? SessionId => _inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => _messages.Reader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) =>
            _inner.SendMessageAsync(message, cancellationToken);

        public ITransport Inner => _inner;

        public CancellationToken Stopping => _stopping.Token;

        /// <summary>An id no request of the SDK client uses (it counts up from 1).</summary>
        public static RequestId NewRequestId() => new(Interlocked.Increment(ref s_nextId));

        /// <summary>Hands a message to the SDK client as if it had come from the upstream (a server request on a direct call's stream).</summary>
        public void Deliver(JsonRpcMessage message) => _messages.Writer.TryWrite(message);

        /// <summary>
        /// Sends a request and waits for its answer (a response or an error), taken off the stream by the
        /// pump after every notification before it was relayed. Cancelled, it tells the upstream
        /// (notifications/cancelled), as the SDK client does.
        /// </summary>
        public async Task<JsonRpcMessage> SendRequestAsync(JsonRpcRequest request, CancellationToken cancellationToken)
        {
            var answer = new TaskCompletionSource<JsonRpcMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[request.Id] = answer;
            try
            {
                if (_closed is { } closed)
                {
                    throw closed;
                }

                await _inner.SendMessageAsync(request, cancellationToken);
                try
                {
                    return await answer.Task.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    SendCancelled(request.Id);
                    throw;
                }
            }
            finally
            {
                _pending.TryRemove(request.Id, out _);
            }
        }

        /// <summary>notifications/cancelled for a request the gateway gave up on; best effort, as the SDK client's.</summary>
        public void SendCancelled(RequestId id)
        {
            var notification = new JsonRpcNotification
            {
                Method = NotificationMethods.CancelledNotification,
                Params = JsonSerializer.SerializeToNode(new CancelledNotificationParams { RequestId = id }, ModelContextProtocol.McpJsonUtilities.DefaultOptions),
            };
            _ = SendQuietlyAsync(notification);
        }

        private async Task SendQuietlyAsync(JsonRpcMessage message)
        {
            try
            {
                await _inner.SendMessageAsync(message, _stopping.Token);
            }
            catch (Exception)
            {
                // The upstream is gone or the gateway stops: nothing is waiting for this request anymore.
            }
        }

        private async Task PumpAsync()
        {
            // Off the caller's stack: ConnectAsync returns at once.
            await Task.Yield();
            try
            {
                await foreach (var message in _inner.MessageReader.ReadAllAsync(_stopping.Token))
                {
                    if (message is JsonRpcNotification notification && _owner._relayedMethods.Contains(notification.Method))
                    {
                        await _owner.RelayAsync(notification, _stopping.Token);
                    }
                    else if (message is JsonRpcResponse or JsonRpcError && !_pending.IsEmpty
                        && _pending.TryRemove(((JsonRpcMessageWithId)message).Id, out var answer))
                    {
                        answer.TrySetResult(message);
                    }
                    else
                    {
                        _messages.Writer.TryWrite(message);
                    }
                }

                Close(null);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                Close(null);
            }
            catch (Exception e)
            {
                // The inner channel's fault (the SDK reads why the upstream closed from it) is passed on as is.
                Close(e);
            }
        }

        private void Close(Exception? fault)
        {
            // As the SDK client does with its own pending requests: they will never be answered.
            _closed = fault ?? new IOException("The server shut down unexpectedly.");
            foreach (var entry in _pending)
            {
                entry.Value.TrySetException(_closed);
            }

            if (fault is null)
            {
                _messages.Writer.TryComplete();
            }
            else
            {
                _messages.Writer.TryComplete(fault);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stopping.CancelAsync();
            await _inner.DisposeAsync();
            await _pump;
            _stopping.Dispose();
        }
    }

    [LoggerMessage(EventName = "UpstreamNotificationNotRelayed", Level = LogLevel.Debug, Message = "Upstream {Upstream} notification {Method} not relayed: {Reason}")]
    private static partial void LogRelayFailed(ILogger logger, string upstream, string method, string reason);
}
