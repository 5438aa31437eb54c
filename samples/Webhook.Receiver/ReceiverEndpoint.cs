using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Webhook.Receiver;

/// <summary>A verified event: its id, type and the parsed body.</summary>
public sealed record ReceivedEvent(string Id, string Type, JsonElement Body);

/// <summary>
/// The receiving end: reads the raw body, verifies signature and timestamp (401 otherwise), ignores a
/// delivery it already processed (the same event id: a replay inside the five minutes, or a retry
/// after an answer that got lost), and hands the event on. A handler that throws answers 500, so the
/// gateway retries the event later.
/// </summary>
public static class ReceiverEndpoint
{
    public static IEndpointConventionBuilder MapWebhookReceiver(
        this IEndpointRouteBuilder endpoints, string path, string secret, Func<ReceivedEvent, CancellationToken, Task> handle, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        // Ids of events processed recently; a real receiver keeps them as long as it cares (and durably).
        var processed = new ConcurrentDictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        return endpoints.MapPost(path, async (HttpRequest request, CancellationToken ct) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct);
            var body = buffer.ToArray();
            var verdict = WebhookVerifier.Verify(
                secret, request.Headers[WebhookVerifier.TimestampHeader], request.Headers[WebhookVerifier.SignatureHeader], body, clock.GetUtcNow());
            if (verdict != Verification.Valid)
            {
                return Results.Json(new { error = verdict.ToString() }, statusCode: StatusCodes.Status401Unauthorized);
            }

            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var id = root.GetProperty("id").GetString()!;
            if (processed.ContainsKey(id))
            {
                return Results.Ok(new { duplicate = true });
            }

            await handle(new ReceivedEvent(id, root.GetProperty("type").GetString()!, root.Clone()), ct);
            processed[id] = clock.GetUtcNow();
            foreach (var old in processed.Where(p => p.Value < clock.GetUtcNow() - TimeSpan.FromHours(1)))
            {
                processed.TryRemove(old.Key, out _);
            }

            return Results.Ok(new { received = id });
        });
    }
}
