using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Webhook.Receiver;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The sample receiver (samples/Webhook.Receiver) on a free loopback port: <c>/hook</c> verifies with
/// the wall clock, <c>/later</c> with a clock six minutes ahead (a replay after the tolerance). In
/// front of it, every raw request is recorded, and <see cref="Failing"/> makes it answer 500 before
/// the sample sees the request, as a receiver that is down would.
/// </summary>
public sealed class LocalWebhookReceiver : IAsyncDisposable
{
    public const string Secret = "whsec-e2e-5f0c1d2e3a4b5c6d7e8f";

    private readonly WebApplication _app;

    private LocalWebhookReceiver(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public Uri HookUrl => new(BaseUrl, "/hook");

    /// <summary>Answer 500 to everything while true.</summary>
    public bool Failing { get; set; }

    /// <summary>Every request that reached the receiver, in arrival order (failed ones included).</summary>
    public ConcurrentQueue<RawRequest> Requests { get; } = new();

    /// <summary>Events the sample verified and handed on (once per event id).</summary>
    public ConcurrentQueue<ReceivedEvent> Events { get; } = new();

    public static async Task<LocalWebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new LocalWebhookReceiver(app);
        app.Use(async (context, next) =>
        {
            context.Request.EnableBuffering();
            using var copy = new MemoryStream();
            await context.Request.Body.CopyToAsync(copy);
            context.Request.Body.Position = 0;
            receiver.Requests.Enqueue(new RawRequest(
                context.Request.Path, copy.ToArray(), context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            if (receiver.Failing)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
            }

            await next(context);
        });
        app.MapWebhookReceiver("/hook", Secret, (e, _) =>
        {
            receiver.Events.Enqueue(e);
            return Task.CompletedTask;
        });
        var later = new FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(6));
        app.MapWebhookReceiver("/later", Secret, (e, _) =>
        {
            receiver.Events.Enqueue(e);
            return Task.CompletedTask;
        }, later);
        await app.StartAsync();
        receiver.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return receiver;
    }

    /// <summary>Gateway settings that send every event here.</summary>
    public IEnumerable<string> Settings(string name = "e2e", string events = "*") =>
    [
        $"--ApprovalBot:Webhooks:{name}:Url={HookUrl}",
        $"--ApprovalBot:Webhooks:{name}:Secret={Secret}",
        $"--ApprovalBot:Webhooks:{name}:Events:0={events}",
    ];

    /// <summary>Sends a recorded request again (as a replayer would), to <paramref name="path"/>, optionally with another body.</summary>
    public async Task<HttpResponseMessage> ReplayAsync(RawRequest original, string path, byte[]? body = null)
    {
        using var http = new HttpClient { BaseAddress = BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body ?? original.Body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        foreach (var name in new[] { WebhookVerifier.SignatureHeader, WebhookVerifier.TimestampHeader, WebhookVerifier.EventHeader, WebhookVerifier.DeliveryHeader })
        {
            request.Headers.TryAddWithoutValidation(name, original.Headers[name]);
        }

        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record RawRequest(string Path, byte[] Body, IReadOnlyDictionary<string, string> Headers)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}
