using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// <c>POST /api/messages</c>: the token is checked before the body is read; the body is then
/// checked against the token (serviceurl claim, key endorsement) before anything acts on it.
/// Any failure answers 401/403 and changes nothing.
/// </summary>
internal sealed class TeamsMessagesEndpoint(TeamsTokenValidator validator, ILogger<TeamsMessagesEndpoint> logger)
{
    public const int MaxBodyBytes = 512 * 1024;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var check = await validator.ValidateTokenAsync(context.Request.Headers.Authorization.ToString(), cancellationToken);
        if (!check.Succeeded)
        {
            return Reject(context, check);
        }

        TeamsActivity activity;
        try
        {
            var body = await ReadBodyAsync(context.Request, cancellationToken);
            using var document = JsonDocument.Parse(body);
            activity = TeamsActivity.Parse(document.RootElement);
        }
        catch (Exception exception) when (exception is JsonException or InvalidDataException)
        {
            TeamsLog.BadActivity(logger, exception is InvalidDataException ? exception.Message : "not a JSON activity");
            return Results.BadRequest();
        }

        check = TeamsTokenValidator.CheckActivity(check, activity.ServiceUrl, activity.ChannelId);
        if (!check.Succeeded)
        {
            return Reject(context, check);
        }

        var handler = context.RequestServices.GetRequiredService<TeamsActivityHandler>();
        return await handler.HandleAsync(activity, cancellationToken);
    }

    private IResult Reject(HttpContext context, TokenCheck check)
    {
        TeamsLog.TokenRejected(logger, check.StatusCode, check.Reason ?? "invalid token");
        if (check.StatusCode == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return Results.StatusCode(check.StatusCode);
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new InvalidDataException($"the activity is larger than {MaxBodyBytes} bytes");
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new InvalidDataException($"the activity is larger than {MaxBodyBytes} bytes");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
