using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;
using ApprovalBot.Core.Redaction;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Front;
using ApprovalBot.Gateway.Identity;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Tasks;
using ApprovalBot.Gateway.Telemetry;
using ApprovalBot.Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using ApprovalBot.Gateway.Replies;

namespace ApprovalBot.Gateway.Enforcement;

/// <summary>
/// The one place where policy decides: wraps the tools/call and tools/list handlers as MCP
/// request filters. Hidden tools vanish from lists and answer exactly like unknown ones.
/// </summary>
public sealed partial class CallEnforcement(
    PolicyStore policies,
    UpstreamRegistry upstreams,
    RateLimiter rateLimiter,
    ApprovalGate gate,
    ArgumentDigest digests,
    AuditTrail audit,
    AgentIdentity identity,
    GatewayTelemetry telemetry,
    TimeProvider time,
    ILogger<CallEnforcement> logger,
    IHttpContextAccessor? httpContexts = null)
{
    public async ValueTask<ListToolsResult> ListToolsAsync(
        RequestContext<ListToolsRequestParams> context, McpRequestHandler<ListToolsRequestParams, ListToolsResult> next, CancellationToken cancellationToken)
    {
        var result = await next(context, cancellationToken);
        var policy = policies.Current;
        result.Tools = result.Tools.Where(t => !policy.IsHidden(t.Name)).ToList();
        return result;
    }

    public ValueTask<CallToolResult> CallToolAsync(
        RequestContext<CallToolRequestParams> context, McpRequestHandler<CallToolRequestParams, CallToolResult> next, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var name = context.Params?.Name;
        var agent = identity.Of(context);
        // A name not known yet may be a tool of an upstream still connecting: wait for the start-up catalogue.
        var lookup = name is null ? ValueTask.FromResult<CatalogTool?>(null) : upstreams.FindToolAsync(name, cancellationToken);
        // Without tracing and with the catalogue at hand, decided with no state machine of this filter: a call
        // held for approval (minutes, thousands of them) then keeps only the gate's.
        return lookup.IsCompletedSuccessfully && !GatewayTelemetry.Traces.HasListeners()
            ? Decide(context, next, started, agent, name, lookup.Result, null, cancellationToken)
            : CallToolTracedAsync(context, next, started, agent, name, lookup, cancellationToken);
    }

    private async ValueTask<CallToolResult> CallToolTracedAsync(
        RequestContext<CallToolRequestParams> context, McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        long started, string agent, string? name, ValueTask<CatalogTool?> lookup, CancellationToken cancellationToken)
    {
        using var activity = GatewayTelemetry.Traces.StartActivity("tools/call");
        activity?.SetTag("mcp.tool", name);
        activity?.SetTag("approvalbot.agent", agent);
        var tool = await lookup;
        return await Decide(context, next, started, agent, name, tool, activity, cancellationToken);
    }

    private ValueTask<CallToolResult> Decide(
        RequestContext<CallToolRequestParams> context, McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        long started, string agent, string? name, CatalogTool? tool, Activity? activity, CancellationToken cancellationToken)
    {
        var policy = policies.Current;
        if (name is null || policy.IsHidden(name) || tool is null)
        {
            Record(started, name is not null && policy.IsHidden(name) ? "hidden" : "unknown", agent, name, null, null);
            return ValueTask.FromException<CallToolResult>(AgentReplies.UnknownTool(name));
        }

        var arguments = context.Params!.Arguments;
        // Readers disagree on which duplicate wins: the approver and the upstream could see different arguments.
        if (DuplicateKeys.Find(arguments) is { } duplicate)
        {
            Record(started, "invalid_arguments", agent, name, null, null);
            return ValueTask.FromException<CallToolResult>(AgentReplies.DuplicateArgument(name, duplicate));
        }

        var argumentsElement = arguments is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(arguments);
        var annotations = tool.Exposed.Annotations is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(tool.Exposed.Annotations, ModelContextProtocol.McpJsonUtilities.DefaultOptions);
        var decision = policy.Evaluate(new PolicyRequest(agent, name, argumentsElement, annotations));
        activity?.SetTag("approvalbot.rule", decision.Rule);

        // A guarded call that joins, collects or is told the outcome of its approval is not a new call:
        // only one that would open an approval counts, so the gate asks (Admit) just before opening one.
        var guarded = decision.Action == PolicyAction.RequireApproval && policy.Mode != PolicyMode.Shadow;
        if (decision.RateLimit is { } limit && !guarded && RateLimited(started, agent, name, decision, arguments, limit) is { } limited && policy.Mode != PolicyMode.Shadow)
        {
            return new(limited); // in shadow mode only recorded
        }

        if (policy.Mode == PolicyMode.Shadow && decision.Action != PolicyAction.Allow)
        {
            // Shadow mode: record what would have happened, then let the call through.
            Record(started, "shadow_" + ActionName(decision.Action), agent, name, decision, arguments);
            return next(context, cancellationToken);
        }

        switch (decision.Action)
        {
            case PolicyAction.Allow:
                return ForwardAllowedAsync(context, next, started, agent, name, tool, decision, arguments, cancellationToken);
            case PolicyAction.Deny:
                Record(started, "denied", agent, name, decision, arguments);
                return new(AgentReplies.DeniedByPolicy(name, agent, decision));
        }

        if (!tool.Upstream.Connected)
        {
            // No card for a call that could not run now: the agent hears that the upstream is down.
            Record(started, "upstream_unavailable", agent, name, decision, arguments);
            return new(AgentReplies.UpstreamUnavailable(tool.Upstream.Unavailable()));
        }

        var admit = decision.RateLimit is { } guardedLimit ? Admit(started, agent, name, decision, arguments, guardedLimit) : null;
        if (context.Items.TryGetValue(McpTasks.TaskItem, out var item) && item is McpTaskRun task)
        {
            // An MCP task waits as long as the approval lives; the client polls instead of holding a request.
            return gate.HoldAsync(
                new GuardedCall(agent, name, tool.Upstream.Name, arguments, decision, null, null, AsTask: true, Admit: admit),
                Forward(context, next),
                cancellationToken,
                task.AttachAsync);
        }

        // A held call also stops waiting when the agent's HTTP request goes away, whether or not the client
        // sent notifications/cancelled; the approval stays pending.
        var progress = new HeldProgress();
        return gate.HoldAsync(
            new GuardedCall(
                agent, name, tool.Upstream.Name, arguments, decision, context.Server, context.Params.ProgressToken, Admit: admit, Progress: progress,
                RequestAborted: httpContexts?.HttpContext?.RequestAborted ?? CancellationToken.None),
            Forward(context, next, progress),
            cancellationToken);
    }

    private async ValueTask<CallToolResult> ForwardAllowedAsync(
        RequestContext<CallToolRequestParams> context, McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        long started, string agent, string name, CatalogTool tool, PolicyDecision decision, IDictionary<string, JsonElement>? arguments,
        CancellationToken cancellationToken)
    {
        var result = await next(context, cancellationToken);
        if (context.Items.TryGetValue(GatewayProxy.UpstreamMillisecondsItem, out var upstreamMs) && upstreamMs is double ms)
        {
            telemetry.Forwarded(tool.Upstream.Name, time.GetElapsedTime(started).TotalMilliseconds, ms);
        }

        Record(started, "allowed", agent, name, decision, arguments);
        return result;
    }

    /// <summary>The gate's question before it opens an approval; its own method, so only a rate-limited rule's call makes the closure.</summary>
    private Func<CallToolResult?> Admit(long started, string agent, string name, PolicyDecision decision, IDictionary<string, JsonElement>? arguments, RateLimit limit) =>
        () => RateLimited(started, agent, name, decision, arguments, limit);

    /// <summary>Takes a slot of the rule's rate limit; out of slots: recorded, and the refusal for the agent.</summary>
    private CallToolResult? RateLimited(long started, string agent, string name, PolicyDecision decision, IDictionary<string, JsonElement>? arguments, RateLimit rateLimit)
    {
        if (rateLimiter.TryAcquire(agent, decision.Rule, rateLimit, out var retryAfter))
        {
            return null;
        }

        Record(started, "rate_limited", agent, name, decision, arguments);
        return AgentReplies.RateLimited(name, agent, decision, rateLimit, retryAfter);
    }

    /// <summary>The upstream call of a guarded call: with the arguments the gate hands over (an approver may have edited them).</summary>
    private static UpstreamCall Forward(RequestContext<CallToolRequestParams> context, McpRequestHandler<CallToolRequestParams, CallToolResult> next, HeldProgress? progress = null) =>
        (arguments, ct) =>
        {
            context.Params!.Arguments = arguments;
            if (progress is { Sent: > 0 } held)
            {
                context.Items[GatewayProxy.HeldProgressItem] = held.Sent;
            }

            return next(context, ct);
        };

    private void Record(long started, string verdict, string agent, string? tool, PolicyDecision? decision, IDictionary<string, JsonElement>? arguments)
    {
        var elapsed = time.GetElapsedTime(started).TotalMilliseconds;
        // The digest and the CallDecided line are made by the audit writer, off the call's path.
        audit.RecordDecision(new AuditEntry(time.GetUtcNow(), verdict, agent, tool, decision?.Rule, decision?.Reason, elapsed), arguments, digests, logger);
        telemetry.CallDecided(verdict, tool);
    }

    private static string ActionName(PolicyAction action) => action switch
    {
        PolicyAction.Deny => "denied",
        PolicyAction.RequireApproval => "held",
        _ => "allowed",
    };
}
