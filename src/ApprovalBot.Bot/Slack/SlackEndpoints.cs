using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// HTTP mode: <c>POST /slack/interactions</c>, <c>/slack/commands</c>, <c>/slack/events</c>.
/// Each request is read whole as raw bytes and its signature checked before anything is parsed;
/// then the same handlers as Socket Mode run.
/// </summary>
internal static class SlackEndpoints
{
    public const int MaxBodyBytes = 1024 * 1024;

    public enum Kind
    {
        Interactions,
        Commands,
        Events,
    }

    public static async Task HandleAsync(HttpContext context, Kind kind)
    {
        var services = context.RequestServices;
        var options = services.GetService<IOptions<SlackOptions>>()?.Value;
        if (options is not { Enabled: true } || services.GetService<SlackInteractionHandler>() is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SlackEndpoints).FullName!);
        var request = context.Request;
        var cancellationToken = context.RequestAborted;

        request.EnableBuffering(bufferThreshold: 64 * 1024);
        var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var verdict = SlackSignature.Verify(
            options.SigningSecret,
            request.Headers[SlackSignature.TimestampHeader].ToString(),
            request.Headers[SlackSignature.SignatureHeader].ToString(),
            body,
            now);
        if (verdict != SlackSignatureResult.Valid)
        {
            SlackLog.SignatureRejected(logger, request.Path, verdict, context.Connection.RemoteIpAddress?.ToString());
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        request.Body.Position = 0;
        var retryNum = request.Headers[SlackSignature.RetryNumHeader].ToString();
        retryNum = retryNum.Length == 0 ? null : retryNum;

        JsonNode? reply;
        try
        {
            reply = kind switch
            {
                Kind.Interactions => await InteractionAsync(context, retryNum, services).ConfigureAwait(false),
                Kind.Commands => await CommandAsync(context, services).ConfigureAwait(false),
                _ => services.GetRequiredService<SlackEventHandler>().Handle(ParseJson(body)),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or FormatException or InvalidOperationException)
        {
            SlackLog.MalformedPayload(logger, request.Path, e.GetType().Name);
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        if (reply is not null)
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(reply.ToJsonString(SlackApiClient.JsonOptions), Encoding.UTF8, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<JsonNode?> InteractionAsync(HttpContext context, string? retryNum, IServiceProvider services)
    {
        if (!context.Request.HasFormContentType)
        {
            throw new InvalidDataException("not a form");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        var payload = form["payload"].ToString();
        if (payload.Length == 0)
        {
            throw new InvalidDataException("no payload field");
        }

        using var document = JsonDocument.Parse(payload);
        return services.GetRequiredService<SlackInteractionHandler>().Handle(document.RootElement, retryNum);
    }

    private static async Task<JsonNode?> CommandAsync(HttpContext context, IServiceProvider services)
    {
        if (!context.Request.HasFormContentType)
        {
            throw new InvalidDataException("not a form");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        if (form.ContainsKey("ssl_check"))
        {
            // Slack checking the certificate of the command URL: nothing to do.
            return null;
        }

        var command = SlackSlashCommand.FromFields(name => form.TryGetValue(name, out var value) ? value.ToString() : null);
        return await services.GetRequiredService<SlackCommandHandler>().HandleAsync(command, context.RequestAborted).ConfigureAwait(false);
    }

    private static JsonElement ParseJson(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    /// <summary>The whole body, or null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        var rented = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var buffer = new MemoryStream();
            int read;
            while ((read = await request.Body.ReadAsync(rented, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return null;
                }

                buffer.Write(rented, 0, read);
            }

            return buffer.ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
