using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Identity.Client;
using Polly.Timeout;

namespace ApprovalBot.Bot.Teams;

/// <summary>The Connector answered with an error status.</summary>
internal sealed class TeamsConnectorException(string operation, HttpStatusCode statusCode, string? errorCode, string? errorMessage)
    : Exception($"Teams Connector: {operation} failed with {(int)statusCode} {statusCode}{(errorCode is null ? "" : $" ({errorCode})")}{(errorMessage is null ? "" : $": {errorMessage}")}")
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    public string? ErrorCode { get; } = errorCode;

    /// <summary>403 MessageWritesBlocked: the app was removed from the team or chat.</summary>
    public bool WritesBlocked => StatusCode == HttpStatusCode.Forbidden
                                 && string.Equals(ErrorCode, "MessageWritesBlocked", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The ids of a conversation the bot created (a new thread in a channel) and of its first activity.</summary>
internal sealed record ConversationResource(string ConversationId, string ActivityId);

/// <summary>
/// The few Bot Connector REST calls ApprovalBot makes. Uses the named client
/// <see cref="HttpClientName"/>, whose pipeline adds the bearer token and retries
/// (see <see cref="TeamsRegistration"/>). Safe to hold as a singleton: a client is taken from the
/// factory per call.
/// </summary>
internal sealed class TeamsConnectorClient(IHttpClientFactory httpClientFactory, ILogger<TeamsConnectorClient> logger)
{
    public const string HttpClientName = "ApprovalBot.Teams.Connector";

    /// <summary><c>POST {serviceUrl}/v3/conversations</c>: a new thread in a channel, opened with <paramref name="activity"/>.</summary>
    public async Task<ConversationResource> CreateConversationAsync(string serviceUrl, string channelId, string tenantId, JsonObject activity, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["isGroup"] = true,
            ["channelData"] = new JsonObject
            {
                ["channel"] = new JsonObject { ["id"] = channelId },
                ["tenant"] = new JsonObject { ["id"] = tenantId },
            },
            ["tenantId"] = tenantId,
            ["activity"] = activity,
        };

        using var answer = await SendAsync("create a conversation", HttpMethod.Post, Url(serviceUrl, "v3/conversations"), body, cancellationToken);
        var root = answer.RootElement;
        var conversationId = root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        var activityId = root.TryGetProperty("activityId", out var aid) && aid.ValueKind == JsonValueKind.String ? aid.GetString() : null;
        if (string.IsNullOrEmpty(conversationId))
        {
            throw new InvalidDataException("The Connector created a conversation but returned no id.");
        }

        // Teams channel threads are "19:…@thread.tacv2;messageid=<root activity id>".
        if (string.IsNullOrEmpty(activityId))
        {
            var marker = conversationId.IndexOf(";messageid=", StringComparison.OrdinalIgnoreCase);
            activityId = marker >= 0 ? conversationId[(marker + ";messageid=".Length)..] : null;
        }

        return string.IsNullOrEmpty(activityId)
            ? throw new InvalidDataException("The Connector created a conversation but returned no activity id.")
            : new ConversationResource(conversationId, activityId);
    }

    /// <summary><c>POST {serviceUrl}/v3/conversations/{conversationId}/activities</c>; returns the new activity's id when given.</summary>
    public async Task<string?> SendToConversationAsync(string serviceUrl, string conversationId, JsonObject activity, CancellationToken cancellationToken)
    {
        var url = Url(serviceUrl, $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities");
        using var answer = await SendAsync("send an activity", HttpMethod.Post, url, activity, cancellationToken);
        return answer.RootElement.ValueKind == JsonValueKind.Object && answer.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;
    }

    /// <summary><c>PUT {serviceUrl}/v3/conversations/{conversationId}/activities/{activityId}</c> with the whole new activity.</summary>
    public async Task UpdateActivityAsync(string serviceUrl, string conversationId, string activityId, JsonObject activity, CancellationToken cancellationToken)
    {
        activity["id"] = activityId;
        var url = Url(serviceUrl, $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities/{Uri.EscapeDataString(activityId)}");
        using var _ = await SendAsync("update an activity", HttpMethod.Put, url, activity, cancellationToken);
    }

    /// <summary>
    /// Answers <paramref name="activity"/> in its conversation (as a reply to it when it has an id).
    /// A failure is logged, not thrown: the person asked for something, and nothing else waits on it.
    /// </summary>
    /// <param name="command">What is answered, for the log ("policy status", "Action.Submit").</param>
    public async Task ReplyAsync(TeamsActivity activity, JsonObject reply, string command, CancellationToken cancellationToken)
    {
        if (activity.ServiceUrl is null || activity.ConversationId is null)
        {
            return;
        }

        if (activity.Id is { Length: > 0 } id)
        {
            reply["replyToId"] = id;
        }

        try
        {
            await SendToConversationAsync(activity.ServiceUrl, activity.ConversationId, reply, cancellationToken);
        }
        catch (Exception exception) when (IsFailure(exception, cancellationToken))
        {
            if (exception is TeamsConnectorException { WritesBlocked: true })
            {
                TeamsLog.WritesBlocked(logger, "reply to a " + command + " command");
            }
            else
            {
                TeamsLog.ReplyFailed(logger, exception, command);
            }
        }
    }

    /// <summary>Whether an exception from a Connector call is a failure to log (rather than a bug or a shutdown).</summary>
    public static bool IsFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is HttpRequestException or TeamsConnectorException or InvalidDataException or JsonException
            or TimeoutRejectedException or MsalException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    internal static Uri Url(string serviceUrl, string relative)
    {
        var baseUrl = serviceUrl.EndsWith('/') ? serviceUrl : serviceUrl + "/";
        return new Uri(baseUrl + relative, UriKind.Absolute);
    }

    private async Task<JsonDocument> SendAsync(string operation, HttpMethod method, Uri url, JsonObject body, CancellationToken cancellationToken)
    {
        var client = httpClientFactory.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(method, url)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var (code, message) = ReadError(text);
            throw new TeamsConnectorException(operation, response.StatusCode, code, message);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return JsonDocument.Parse("{}");
        }

        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return JsonDocument.Parse("{}");
        }
    }

    /// <summary>Connector errors look like <c>{"error":{"code":"MessageWritesBlocked","message":"…"}}</c>.</summary>
    private static (string? Code, string? Message) ReadError(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : root;
            if (error.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            return (code, message is { Length: > 300 } ? message[..300] : message);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }
}
