using System.Text.Json.Nodes;
using System.Threading.Channels;
using ApprovalBot.Gateway.Upstreams;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Tests.Upstreams;

/// <summary>What an upstream says about a request reaches the agent before the request's answer, in order.</summary>
public sealed class OrderedRelayTransportTests
{
    private static readonly HashSet<string> Relayed = [NotificationMethods.ProgressNotification, NotificationMethods.LoggingMessageNotification];

    private static JsonRpcNotification Progress(int value) =>
        new() { Method = NotificationMethods.ProgressNotification, Params = new JsonObject { ["progressToken"] = "t", ["progress"] = value } };

    private static JsonRpcResponse Response(int id) => new() { Id = new RequestId(id), Result = new JsonObject() };

    [Fact]
    public async Task A_response_goes_on_only_after_the_notifications_before_it_were_delivered()
    {
        var upstream = new FakeTransport();
        var delivered = new List<int>();
        var secondEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseSecond = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var relay = new OrderedRelayTransport(
            upstream,
            Relayed,
            async (n, ct) =>
            {
                var value = n.Params!["progress"]!.GetValue<int>();
                if (value == 100)
                {
                    secondEntered.TrySetResult();
                    await releaseSecond.Task.WaitAsync(ct);
                }

                delivered.Add(value);
            },
            TimeProvider.System,
            NullLogger.Instance);
        await using var transport = await relay.ConnectAsync();

        upstream.Incoming.Writer.TryWrite(Progress(0));
        upstream.Incoming.Writer.TryWrite(Progress(100));
        upstream.Incoming.Writer.TryWrite(Response(1));
        upstream.Incoming.Writer.TryWrite(new JsonRpcNotification { Method = NotificationMethods.ToolListChangedNotification });
        await secondEntered.Task;

        // The last notification is still being delivered: the response has not been handed on.
        Assert.False(transport.MessageReader.TryRead(out _));
        releaseSecond.SetResult();
        var first = await transport.MessageReader.ReadAsync();
        var second = await transport.MessageReader.ReadAsync();

        Assert.Equal(new[] { 0, 100 }, delivered);
        Assert.Equal(new RequestId(1), Assert.IsType<JsonRpcResponse>(first).Id);
        Assert.Equal(NotificationMethods.ToolListChangedNotification, Assert.IsType<JsonRpcNotification>(second).Method);
    }

    [Fact]
    public async Task A_notification_an_agent_does_not_take_is_dropped_after_the_delivery_limit()
    {
        var upstream = new FakeTransport();
        var time = new FakeTimeProvider();
        var stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var relay = new OrderedRelayTransport(
            upstream,
            Relayed,
            async (n, ct) =>
            {
                stalled.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            },
            time,
            NullLogger.Instance);
        await using var transport = await relay.ConnectAsync();

        upstream.Incoming.Writer.TryWrite(Progress(0));
        upstream.Incoming.Writer.TryWrite(Response(7));
        await stalled.Task;
        time.Advance(OrderedRelayTransport.DeliveryLimit);

        Assert.Equal(new RequestId(7), Assert.IsType<JsonRpcResponse>(await transport.MessageReader.ReadAsync()).Id);
    }

    [Fact]
    public async Task Why_the_upstream_closed_is_passed_on_to_the_client()
    {
        var upstream = new FakeTransport();
        var relay = new OrderedRelayTransport(upstream, Relayed, (_, _) => ValueTask.CompletedTask, TimeProvider.System, NullLogger.Instance);
        await using var transport = await relay.ConnectAsync();
        var closed = new IOException("the upstream process exited with code 3");

        upstream.Incoming.Writer.TryWrite(Response(1));
        upstream.Incoming.Writer.TryComplete(closed);

        Assert.IsType<JsonRpcResponse>(await transport.MessageReader.ReadAsync());
        Assert.Same(closed, await Assert.ThrowsAsync<IOException>(() => transport.MessageReader.Completion));
    }

    [Fact]
    public async Task The_gateways_own_request_gets_its_answer_after_the_notifications_before_it_and_the_sdk_client_never_sees_it()
    {
        var upstream = new FakeTransport();
        var delivered = new List<int>();
        var relay = new OrderedRelayTransport(
            upstream, Relayed, (n, _) => { delivered.Add(n.Params!["progress"]!.GetValue<int>()); return ValueTask.CompletedTask; }, TimeProvider.System, NullLogger.Instance);
        await using var transport = await relay.ConnectAsync();
        var session = relay.Current!;
        var request = new JsonRpcRequest { Id = OrderedRelayTransport.Session.NewRequestId(), Method = RequestMethods.ToolsCall };

        var answer = session.SendRequestAsync(request, CancellationToken.None);
        var sent = await upstream.Sent.Reader.ReadAsync();
        upstream.Incoming.Writer.TryWrite(Progress(1));
        upstream.Incoming.Writer.TryWrite(Progress(2));
        upstream.Incoming.Writer.TryWrite(new JsonRpcResponse { Id = request.Id, Result = new JsonObject { ["ok"] = true } });
        upstream.Incoming.Writer.TryWrite(Response(3));

        Assert.Same(request, sent);
        Assert.True(Assert.IsType<JsonRpcResponse>(await answer).Result!["ok"]!.GetValue<bool>());
        Assert.Equal(new[] { 1, 2 }, delivered);
        // Only the SDK client's own answer reaches it.
        Assert.Equal(new RequestId(3), Assert.IsType<JsonRpcResponse>(await transport.MessageReader.ReadAsync()).Id);
    }

    [Fact]
    public async Task The_gateways_own_request_fails_when_the_upstream_closes_and_a_cancelled_one_is_cancelled_upstream_too()
    {
        var upstream = new FakeTransport();
        var relay = new OrderedRelayTransport(upstream, Relayed, (_, _) => ValueTask.CompletedTask, TimeProvider.System, NullLogger.Instance);
        await using var transport = await relay.ConnectAsync();
        var session = relay.Current!;

        using (var cancel = new CancellationTokenSource())
        {
            var request = new JsonRpcRequest { Id = OrderedRelayTransport.Session.NewRequestId(), Method = RequestMethods.ToolsCall };
            var answer = session.SendRequestAsync(request, cancel.Token);
            await upstream.Sent.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            await cancel.CancelAsync();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer.WaitAsync(TimeSpan.FromSeconds(5)));
            var cancelled = Assert.IsType<JsonRpcNotification>(await upstream.Sent.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(NotificationMethods.CancelledNotification, cancelled.Method);
            Assert.Equal(request.Id.ToString(), cancelled.Params!["requestId"]!.ToString());
        }

        var pending = session.SendRequestAsync(new JsonRpcRequest { Id = OrderedRelayTransport.Session.NewRequestId(), Method = RequestMethods.ToolsCall }, CancellationToken.None);
        await upstream.Sent.Reader.ReadAsync();
        var closed = new IOException("the upstream process exited with code 3");
        upstream.Incoming.Writer.TryComplete(closed);

        Assert.Same(closed, await Assert.ThrowsAsync<IOException>(() => pending));
    }

    private sealed class FakeTransport : IClientTransport, ITransport
    {
        public Channel<JsonRpcMessage> Incoming { get; } = Channel.CreateUnbounded<JsonRpcMessage>();

        public Channel<JsonRpcMessage> Sent { get; } = Channel.CreateUnbounded<JsonRpcMessage>();

        public string Name => "fake";

        public string? SessionId => null;

        public ChannelReader<JsonRpcMessage> MessageReader => Incoming.Reader;

        public Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) => Task.FromResult<ITransport>(this);

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            Sent.Writer.TryWrite(message);
            return Task.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            Incoming.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
