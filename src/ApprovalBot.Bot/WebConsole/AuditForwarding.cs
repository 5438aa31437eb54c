using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ApprovalBot.Bot.WebConsole;

/// <summary>
/// A bot running apart from its gateway serves the console page, but the audit lives in the
/// gateway: these routes pass the page's audit and timeline requests (with their bearer token) to
/// <c>Console:GatewayUrl</c> and its answers back unchanged. The gateway checks the token.
/// </summary>
public static class AuditForwarding
{
    public const string HttpClientName = "approvalbot-console-gateway";

    public static IServiceCollection AddAuditForwarding(this IServiceCollection services, string gatewayUrl)
    {
        services.AddHttpClient(HttpClientName, c =>
        {
            c.BaseAddress = new Uri(gatewayUrl.TrimEnd('/') + "/");
            c.Timeout = TimeSpan.FromMinutes(5);
        }).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        return services;
    }

    public static IEndpointRouteBuilder MapAuditForwarding(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/audit", ForwardAsync);
        endpoints.MapGet("/api/audit/export", ForwardAsync);
        endpoints.MapGet("/api/approvals/{id:guid}/timeline", ForwardAsync);
        return endpoints;
    }

    private static async Task ForwardAsync(HttpContext context, IHttpClientFactory clients)
    {
        var http = clients.CreateClient(HttpClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, context.Request.Path.Value!.TrimStart('/') + context.Request.QueryString);
        if (context.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            await Results.Json(new { error = "gateway_unreachable", message = $"The gateway at Console:GatewayUrl did not answer: {e.Message}" }, statusCode: StatusCodes.Status502BadGateway)
                .ExecuteAsync(context);
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
            if (response.Content.Headers.ContentDisposition is { } disposition)
            {
                context.Response.Headers.ContentDisposition = disposition.ToString();
            }

            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
