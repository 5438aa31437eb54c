using System.Security.Cryptography;
using System.Text;
using ApprovalBot.Gateway.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ApprovalBot.Gateway.Audit;

/// <summary>
/// The audit API, served by the gateway (it owns the audit trail), behind the console's admin token:
/// <c>GET /api/audit</c> (filtered pages, newest first), <c>GET /api/audit/export</c> (every matching
/// row as JSON lines or CSV) and <c>GET /api/approvals/{id}/timeline</c>. In role all the console page
/// calls them on the same host; a separate bot forwards them here (Console:GatewayUrl).
/// </summary>
public static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder endpoints, string adminToken)
    {
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(adminToken));
        var api = endpoints.MapGroup("/api").AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected))
            {
                return Results.Json(new { error = "unauthorized", message = "The audit API needs Authorization: Bearer <Console:AdminToken>." }, statusCode: StatusCodes.Status401Unauthorized);
            }

            return await next(context);
        });

        api.MapGet("/audit", async (HttpRequest request, GatewayStore store, CancellationToken ct) =>
        {
            var (query, error) = Parse(request);
            return query is null ? BadRequest(error!) : Results.Json(await store.QueryAuditAsync(query, ct), AuditExport.Json);
        });

        api.MapGet("/audit/export", async (HttpContext http, GatewayStore store, CancellationToken ct) =>
        {
            var (query, error) = Parse(http.Request);
            var format = http.Request.Query["format"].ToString() is { Length: > 0 } f ? f : AuditExport.JsonLines;
            if (query is null || !AuditExport.IsFormat(format))
            {
                await BadRequest(error ?? $"format: '{format}' is not jsonl or csv.").ExecuteAsync(http);
                return;
            }

            http.Response.ContentType = AuditExport.ContentType(format);
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"approvalbot-audit.{format}\"";
            await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(false), 64 * 1024);
            await AuditExport.WriteAsync(AuditExport.ReadAllAsync(store, query, ct), format, writer, ct);
        });

        api.MapGet("/approvals/{id:guid}/timeline", async (Guid id, GatewayStore store, CancellationToken ct) =>
        {
            if (await ApprovalTimeline.ReadAsync(store, id, ct) is not { } timeline)
            {
                return Results.Json(new { error = "not_found", message = $"No approval {id} on this gateway (unknown, or removed by retention)." }, statusCode: StatusCodes.Status404NotFound);
            }

            return Results.Json(timeline, AuditExport.Json);
        });

        return endpoints;
    }

    private static (AuditQuery? Query, string? Error) Parse(HttpRequest request)
    {
        var q = request.Query;
        return AuditQuery.Parse(q["agent"], q["tool"], q["decision"], q["approval"], q["from"], q["to"], q["cursor"], q["limit"]);
    }

    private static IResult BadRequest(string message) => Results.Json(new { error = "bad_request", message }, statusCode: StatusCodes.Status400BadRequest);
}
