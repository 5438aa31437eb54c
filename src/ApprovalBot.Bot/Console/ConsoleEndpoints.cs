using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ApprovalBot.Bot.Console;

/// <summary>
/// The web console and its JSON API. Deciding is POST-only and needs the bearer token in a header,
/// which a browser never adds on its own: a crawler, a link preview or a cross-site form cannot decide.
/// </summary>
public static class ConsoleEndpoints
{
    /// <summary>The principal console API callers act as in policy <c>approvers</c> lists.</summary>
    public static readonly Approver ConsoleAdmin = new("console", "admin", "console admin");

    public static IEndpointRouteBuilder MapApprovalConsole(this IEndpointRouteBuilder endpoints, string adminToken)
    {
        var expected = SHA256.HashData(Encoding.UTF8.GetBytes(adminToken));
        var api = endpoints.MapGroup("/api/approvals").AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
            if (!CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), expected))
            {
                return Results.Json(new { error = "unauthorized", message = "The console API needs Authorization: Bearer <Console:AdminToken>." }, statusCode: StatusCodes.Status401Unauthorized);
            }

            return await next(context);
        });

        api.MapGet("", async (string? status, int? limit, IApprovalReadModel readModel, [FromServices] TimeProvider time, CancellationToken ct) =>
        {
            ApprovalStatus? filter = null;
            if (!string.IsNullOrEmpty(status) && !string.Equals(status, "all", StringComparison.OrdinalIgnoreCase))
            {
                // By name only: Enum.TryParse also takes numbers ("1", "42"), which are not statuses.
                if (Enum.GetNames<ApprovalStatus>().FirstOrDefault(n => string.Equals(n, status, StringComparison.OrdinalIgnoreCase)) is not { } name)
                {
                    return Results.BadRequest(new { error = "bad_status", message = $"Unknown status '{status}'. Use one of: all, {string.Join(", ", Enum.GetNames<ApprovalStatus>()).ToLowerInvariant()}." });
                }

                filter = Enum.Parse<ApprovalStatus>(name);
            }

            var list = await readModel.ListAsync(filter, Math.Clamp(limit ?? 200, 1, 1000), ct);
            var now = time.GetUtcNow();
            return Results.Json(list.Select(v => ToDto(v, now)));
        });

        api.MapPost("/{id:guid}/approve", (Guid id, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct) =>
            DecideAsync(id, true, body, decisions, ct));
        api.MapPost("/{id:guid}/deny", (Guid id, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct) =>
            DecideAsync(id, false, body, decisions, ct));
        // Withdraw on purpose (an agent that gives up no longer cancels anything): ends as Cancelled.
        api.MapPost("/{id:guid}/cancel", (Guid id, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct) =>
            DecideAsync(id, false, body, decisions, ct, withdraw: true));

        endpoints.MapGet("/approvals", () => Results.Content(ConsolePage.Html, "text/html; charset=utf-8"));
        return endpoints;
    }

    private static async Task<IResult> DecideAsync(Guid id, bool approve, DecisionBody? body, IApprovalDecisions decisions, CancellationToken ct, bool withdraw = false)
    {
        var comment = body?.Comment is { Length: > 2000 } long_ ? long_[..2000] : body?.Comment;
        var outcome = await decisions.DecideAsync(new DecisionCommand(id, approve, ConsoleAdmin, comment, "console", withdraw), ct);
        return Results.Json(outcome, statusCode: outcome.Accepted ? StatusCodes.Status200OK : outcome.Status == "Unknown" ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
    }

    public static ApprovalDto ToDto(ApprovalView v, DateTimeOffset now) => new(
        v.Id, v.Request.Tool, v.Request.Upstream, v.Request.Agent, v.Request.RedactedArguments, v.Request.Reason,
        v.Request.Approvers, v.Request.ApprovalsRequired, v.Status.ToString(), v.Request.RequestedAt, v.Request.ExpiresAt,
        v.DecidedBy?.DisplayName, v.DecidedBy?.Principal, v.Comment, v.ResolvedAt, v.Succeeded, v.ExecutionSummary, v.Request.GatewayInstance,
        v.AgentWaiting, v.CollectBy, ApprovalText.Describe(v, now));
}

public sealed record DecisionBody([property: JsonPropertyName("comment")] string? Comment);

/// <summary>What the console API returns per approval (arguments already redacted by the gateway).</summary>
/// <param name="AgentWaiting">While pending: a call of the agent is held open for it; false: the agent collects it on its next call.</param>
/// <param name="CollectBy">Approved while nobody waited: runs when the agent calls again, until then (else it lapses).</param>
/// <param name="State">One sentence for where it stands, as the cards say it ("Agent waiting", "Approved by X — runs when …").</param>
public sealed record ApprovalDto(
    Guid Id,
    string Tool,
    string Upstream,
    string Agent,
    string Arguments,
    string? Reason,
    IReadOnlyList<string> Approvers,
    int ApprovalsRequired,
    string Status,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    string? DecidedBy,
    string? DecidedByPrincipal,
    string? Comment,
    DateTimeOffset? ResolvedAt,
    bool? Succeeded,
    string? ExecutionSummary,
    string Gateway,
    bool AgentWaiting,
    DateTimeOffset? CollectBy,
    string State);
