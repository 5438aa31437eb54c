using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// The few Slack Web API methods ApprovalBot uses, over an <see cref="IHttpClientFactory"/> client
/// (so it can live in singletons). Always checks <c>ok</c>. The client's pipeline
/// (<see cref="SlackRegistration"/>) honours 429 <c>Retry-After</c> (capped, up to
/// <see cref="MaxRateLimitRetries"/> times) — Slack did not process a 429'd call, so that retry is
/// safe even for posts. Other failures are thrown as <see cref="SlackApiException"/>.
/// </summary>
internal sealed class SlackApiClient(
    IHttpClientFactory httpClientFactory,
    IOptions<SlackOptions> options,
    ILogger<SlackApiClient> logger)
{
    public const string HttpClientName = "ApprovalBot.Slack";
    public const int MaxRateLimitRetries = 3;
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>The wait after a 429 without a Retry-After.</summary>
    internal static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(1);

    /// <summary>How long one attempt may take (the waits between attempts are not counted).</summary>
    internal static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);

    internal static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SlackOptions _options = options.Value;

    public async Task<SlackMessageRef> PostMessageAsync(string channel, string text, JsonArray? blocks, string? threadTs, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["channel"] = channel, ["text"] = text };
        if (blocks is not null)
        {
            body["blocks"] = blocks;
        }

        if (threadTs is not null)
        {
            body["thread_ts"] = threadTs;
        }

        var answer = await CallAsync("chat.postMessage", body, cancellationToken).ConfigureAwait(false);
        var postedChannel = SlackJson.ReadString(answer, "channel") ?? channel;
        var ts = SlackJson.ReadString(answer, "ts") ?? throw new SlackApiException("chat.postMessage", "invalid_response");
        return new SlackMessageRef(postedChannel, ts);
    }

    public Task UpdateMessageAsync(SlackMessageRef message, string text, JsonArray blocks, CancellationToken cancellationToken) =>
        CallAsync("chat.update", new JsonObject { ["channel"] = message.Channel, ["ts"] = message.Ts, ["text"] = text, ["blocks"] = blocks }, cancellationToken);

    public Task PostEphemeralAsync(string channel, string user, string text, CancellationToken cancellationToken) =>
        CallAsync("chat.postEphemeral", new JsonObject { ["channel"] = channel, ["user"] = user, ["text"] = text }, cancellationToken);

    public Task OpenViewAsync(string triggerId, JsonObject view, CancellationToken cancellationToken) =>
        CallAsync("views.open", new JsonObject { ["trigger_id"] = triggerId, ["view"] = view }, cancellationToken);

    /// <summary><c>apps.connections.open</c> with the app-level token: the Socket Mode WebSocket URL.</summary>
    public async Task<Uri> OpenSocketConnectionAsync(CancellationToken cancellationToken)
    {
        var answer = await CallAsync("apps.connections.open", new JsonObject(), cancellationToken, _options.AppToken).ConfigureAwait(false);
        return answer.TryGetProperty("url", out var url) && Uri.TryCreate(url.GetString(), UriKind.Absolute, out var uri)
            ? uri
            : throw new SlackApiException("apps.connections.open", "invalid_response");
    }

    /// <summary>Calls a Web API method with a JSON body; returns the answer when <c>ok</c> is true.</summary>
    public async Task<JsonElement> CallAsync(string method, JsonObject body, CancellationToken cancellationToken, string? token = null)
    {
        var http = httpClientFactory.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_options.ApiBaseUri(), method))
        {
            Content = new StringContent(body.ToJsonString(JsonOptions), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token ?? _options.BotToken);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new SlackApiException(method, "transport_error", e);
        }
        catch (Exception e) when (e is TimeoutRejectedException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new SlackApiException(method, "timeout", e);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                // Still rate limited after the pipeline's retries.
                SlackLog.ApiError(logger, method, "ratelimited");
                throw new SlackApiException(method, "ratelimited");
            }

            if (!response.IsSuccessStatusCode)
            {
                SlackLog.ApiHttpError(logger, method, (int)response.StatusCode);
                throw new SlackApiException(method, $"http_{(int)response.StatusCode}");
            }

            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            JsonElement answer;
            try
            {
                using var document = JsonDocument.Parse(bytes);
                answer = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                SlackLog.ApiError(logger, method, "invalid_response");
                throw new SlackApiException(method, "invalid_response", e);
            }

            if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("ok", out var ok) || ok.ValueKind != JsonValueKind.True)
            {
                var error = SlackJson.ReadString(answer, "error") ?? "unknown_error";
                SlackLog.ApiError(logger, method, error);
                throw new SlackApiException(method, error);
            }

            return answer;
        }
    }
}
