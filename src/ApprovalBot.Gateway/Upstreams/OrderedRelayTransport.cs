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

    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        new Session(await inner.ConnectAsync(cancellationToken), this);

    private sealed class Session : ITransport
    {
        private readonly ITransport _inner;
        private readonly OrderedRelayTransport _owner;
        private readonly Channel<JsonRpcMessage> _messages = Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleWriter = true });
        private readonly CancellationTokenSource _stopping = new();
        private readonly Task _pump;

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
                        await RelayAsync(notification);
                    }
                    else
                    {
                        _messages.Writer.TryWrite(message);
                    }
                }

                _messages.Writer.TryComplete();
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                _messages.Writer.TryComplete();
            }
            catch (Exception e)
            {
                // The inner channel's fault (the SDK reads why the upstream closed from it) is passed on as is.
                _messages.Writer.TryComplete(e);
            }
        }

        private async Task RelayAsync(JsonRpcNotification notification)
        {
            using var limit = new CancellationTokenSource(DeliveryLimit, _owner._time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, limit.Token);
            try
            {
                await _owner._relay(notification, linked.Token);
            }
            catch (Exception e) when (!_stopping.IsCancellationRequested)
            {
                // One notification that cannot be delivered never ends the upstream connection.
                LogRelayFailed(_owner._logger, _owner.Name, notification.Method, limit.IsCancellationRequested ? "not taken in time" : e.Message);
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
