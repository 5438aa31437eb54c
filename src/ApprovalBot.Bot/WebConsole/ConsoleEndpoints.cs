using System.Security.Cryptography;
using System.Text;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ApprovalBot.Bot.WebConsole;

/// <summary>
/// The web console and its JSON API. Deciding is POST-only and needs the bearer token in a header,
/// which a browser never adds on its own: a crawler, a link preview or a cross-site form cannot decide.
/// </summary>
public static class ConsoleEndpoints
{
    /// <summary>The principal console API callers act as in policy <c>approvers</c> lists.</summary>
    internal static readonly Approver ConsoleAdmin = new("console", "admin", "console admin");

    public static IEndpointRouteBuilder MapApprovalConsole(this IEndpointRouteBuilder endpoints, string adminToken)
    {
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(adminToken));
        EndpointFilterDelegate Authorized(EndpointFilterDelegate next) => async context =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected))
            {
                return Results.Json(new { error = "unauthorized", message = "The console API needs Authorization: Bearer <Console:AdminToken>." }, statusCode: StatusCodes.Status401Unauthorized);
            }

            return await next(context);
        };

        var api = endpoints.MapGroup("/api/approvals").AddEndpointFilterFactory((_, next) => Authorized(next));

        api.MapGet("", async (string? status, int? limit, IApprovalReadModel readModel, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            ApprovalStatus? filter = null;
            if (!string.IsNullOrEmpty(status) && !string.Equals(status, "all", StringComparison.OrdinalIgnoreCase))
            {
                if (!Enum.TryParse<ApprovalStatus>(status, ignoreCase: true, out var parsed))
                {
                    return Results.BadRequest(new { error = "bad_status", message = $"Unknown status '{status}'. Use one of: all, {string.Join(", ", Enum.GetNames<ApprovalStatus>()).ToLowerInvariant()}." });
                }

                filter = parsed;
            }

            var list = await readModel.ListAsync(filter, Math.Clamp(limit ?? 200, 1, 1000), ct);
            var now = time.GetUtcNow();
            return Results.Json(list.Select(v => ToDto(v, now)));
        });

        // {"grant": "1h"} approves for a while: one of the durations the approval offers.
        api.MapPost("/{id:guid}/approve", (Guid id, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct) =>
            DecideAsync(id, true, body, decisions, ct));
        api.MapPost("/{id:guid}/deny", (Guid id, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct) =>
            DecideAsync(id, false, body, decisions, ct));
        // Withdraw on purpose (an agent that gives up no longer cancels anything): ends as Cancelled.
        api.MapPost("/{id:guid}/cancel", (Guid id, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct) =>
            DecideAsync(id, false, body, decisions, ct, withdraw: true));

        var grants = endpoints.MapGroup("/api/grants").AddEndpointFilterFactory((_, next) => Authorized(next));
        // Active grants by default (soonest to end first); ?status=all for the newest of any state.
        grants.MapGet("", async (string? status, int? limit, [FromServices] IGrantReadModel readModel, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            var all = string.Equals(status, "all", StringComparison.OrdinalIgnoreCase);
            if (!all && !string.IsNullOrEmpty(status) && !string.Equals(status, "active", StringComparison.OrdinalIgnoreCase))
            {
                return Results.BadRequest(new { error = "bad_status", message = $"Unknown status '{status}'. Use active or all." });
            }

            var now = time.GetUtcNow();
            var list = await readModel.ListGrantsAsync(!all, now, Math.Clamp(limit ?? 200, 1, 1000), ct);
            return Results.Json(list.Select(g => ToDto(g, now)));
        });
        grants.MapPost("/{id:guid}/revoke", async (Guid id, DecisionBody? body, [FromServices] IGrantCommands commands, CancellationToken ct) =>
        {
            var outcome = await commands.RevokeAsync(new GrantRevokeCommand(id, ConsoleAdmin, Comment(body), "console"), ct);
            return Results.Json(outcome, statusCode: outcome.Accepted ? StatusCodes.Status200OK
                : outcome.Message.StartsWith("No grant", StringComparison.Ordinal) ? StatusCodes.Status404NotFound
                : StatusCodes.Status409Conflict);
        });

        endpoints.MapGet("/approvals", () => Results.Content(ConsolePage.Html, "text/html; charset=utf-8"));
        return endpoints;
    }

    private static string? Comment(DecisionBody? body) => body?.Comment is { Length: > 2000 } long_ ? long_[..2000] : body?.Comment;

    private static async Task<IResult> DecideAsync(Guid id, bool approve, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct, bool withdraw = false)
    {
        var comment = Comment(body);
        var grant = approve && !string.IsNullOrWhiteSpace(body?.Grant) ? body.Grant.Trim() : null;
        var edited = approve && body?.Arguments is { ValueKind: not (System.Text.Json.JsonValueKind.Null or System.Text.Json.JsonValueKind.Undefined) } arguments
            ? arguments.GetRawText()
            : null;
        var outcome = await decisions.DecideAsync(new DecisionCommand(id, approve, ConsoleAdmin, comment, "console", withdraw, grant, edited), ct);
        return Results.Json(outcome, statusCode: outcome.Accepted ? StatusCodes.Status200OK : outcome.Status == "Unknown" ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
    }

    internal static ApprovalDto ToDto(ApprovalView v, DateTimeOffset now) => new(
        v.Id, v.Request.Tool, v.Request.Upstream, v.Request.Agent, v.Request.RedactedArguments, v.Request.Reason,
        v.Request.Approvers, v.Request.ApprovalsRequired, v.Status.ToString(), v.Request.RequestedAt, v.Request.ExpiresAt,
        v.DecidedBy?.DisplayName, v.DecidedBy?.Principal, v.Comment, v.ResolvedAt, v.Succeeded, v.ExecutionSummary, v.Request.GatewayInstance,
        v.AgentWaiting, v.CollectBy, ApprovalText.Describe(v, now),
        v.Request.Grants ?? [], v.Request.GrantScope, v.GrantId, v.GrantUntil, v.Request.Editable, v.EditedArguments, v.EscalatedAt, v.EscalatedTo);

    internal static GrantDto ToDto(GrantView g, DateTimeOffset now) => new(
        g.Id, g.Grant.ApprovalId, g.Grant.Agent, g.Grant.Tool, g.Grant.Upstream, g.Grant.Rule, g.Grant.Scope,
        g.Grant.GrantedBy.DisplayName, g.Grant.GrantedBy.Principal, g.Grant.Channel, g.Grant.CreatedAt, g.Grant.ExpiresAt,
        g.IsActive(now), g.State(now), g.EndedAt, g.EndReason, g.EndedBy?.DisplayName, g.EndComment, g.Grant.GatewayInstance);
}
