using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ApprovalBot.Gateway.Identity;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Upstreams;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using ApprovalBot.Gateway.Replies;

namespace ApprovalBot.Gateway.Tasks;

/// <summary>
/// MCP Tasks (protocol 2025-11-25) on the front: a task-augmented <c>tools/call</c> gets a task at
/// once, and <c>tasks/get</c>, <c>tasks/result</c>, <c>tasks/list</c>, <c>tasks/cancel</c> serve it,
/// each scoped to the calling agent. The SDK has no task types in Core, so the wire shapes are
/// written here and the capability is added to the initialize answer by a message filter.
/// </summary>
public static class McpTasks
{
    /// <summary>Request item under which the running task travels to the enforcement filter.</summary>
    public const string TaskItem = "approvalbot.task";

    private const string RelatedTaskKey = "io.modelcontextprotocol/related-task";

    public static IMcpServerBuilder WithGatewayTasks(this IMcpServerBuilder builder)
    {
        builder.Services.Configure<McpServerOptions>(o =>
        {
            o.RequestHandlers ??= [];
            o.RequestHandlers.Add(Handler("tasks/get", GetAsync));
            o.RequestHandlers.Add(Handler("tasks/result", ResultAsync));
            o.RequestHandlers.Add(Handler("tasks/list", ListAsync));
            o.RequestHandlers.Add(Handler("tasks/cancel", CancelAsync));
            o.Filters.Request.CallToolWithAlternateFilters.Add(StartAsync);
        });
        return builder
            .WithMessageFilters(f => f.AddOutgoingFilter(next => (context, ct) =>
            {
                Advertise(context.JsonRpcMessage);
                return next(context, ct);
            }));
    }

    /// <summary>
    /// A task-augmented call: answered with the task at once; the call runs in the background through the ordinary pipeline.
    /// Any other call passes straight on, keeping no state machine of this filter while it runs (or waits for approval).
    /// </summary>
    private static ValueTask<ResultOrAlternate<CallToolResult>> StartAsync(
        RequestContext<CallToolRequestParams> context, McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next, CancellationToken cancellationToken) =>
        context.JsonRpcRequest.Params is JsonObject { } raw && raw["task"] is JsonObject taskParams
            ? StartTaskAsync(context, taskParams, next, cancellationToken)
            : next(context, cancellationToken);

    private static async ValueTask<ResultOrAlternate<CallToolResult>> StartTaskAsync(
        RequestContext<CallToolRequestParams> context, JsonObject taskParams, McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next, CancellationToken cancellationToken)
    {
        var services = context.Server.Services!;
        var name = context.Params?.Name;
        var policy = services.GetRequiredService<PolicyStore>().Current;
        // A tool of an upstream still connecting at start-up is waited for, as without a task.
        if (name is null || policy.IsHidden(name) || await services.GetRequiredService<UpstreamRegistry>().FindToolAsync(name, cancellationToken) is null)
        {
            // Unknown (or hidden) tools fail the request itself, exactly as without a task.
            return await next(context, cancellationToken);
        }

        var agent = services.GetRequiredService<AgentIdentity>().Of(context);
        var ttl = taskParams["ttl"] is JsonValue v && v.TryGetValue<double>(out var ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
        var task = await services.GetRequiredService<McpTaskRunner>().StartAsync(agent, name, ttl, async (run, ct) =>
        {
            context.Items[TaskItem] = run;
            var outcome = await next(context, ct);
            return outcome.Result ?? throw new McpProtocolException("The tool call produced no result.", McpErrorCode.InternalError);
        }, cancellationToken);
        return ResultOrAlternate<CallToolResult>.FromAlternate(new CreateTaskResult { Task = ToWire(task) }, TypeInfo<CreateTaskResult>());
    }

    private static async ValueTask<JsonNode?> GetAsync(RequestContext<JsonNode?> context, CancellationToken cancellationToken) =>
        ToWire(await FindAsync(context, cancellationToken));

    private static async ValueTask<JsonNode?> ResultAsync(RequestContext<JsonNode?> context, CancellationToken cancellationToken)
    {
        var task = await FindAsync(context, cancellationToken);
        var runner = context.Server.Services!.GetRequiredService<McpTaskRunner>();
        var store = context.Server.Services!.GetRequiredService<GatewayStore>();
        // tasks/result blocks until the task ends (the request's own cancellation bounds it).
        while (!task.IsTerminal)
        {
            await runner.WaitAsync(task.Id, cancellationToken);
            task = await store.GetTaskAsync(task.Id, task.Agent, cancellationToken) ?? throw NotFound(task.Id);
        }

        switch (task.Status)
        {
            case TaskRecord.Completed:
                var result = JsonNode.Parse(task.ResultJson ?? "{}")!.AsObject();
                var meta = result["_meta"] as JsonObject ?? new JsonObject();
                meta[RelatedTaskKey] = new JsonObject { ["taskId"] = task.Id };
                result["_meta"] = meta;
                return result;
            case TaskRecord.Failed:
                var error = JsonNode.Parse(task.ResultJson ?? "{}");
                throw new McpProtocolException(
                    error?["message"]?.GetValue<string>() ?? task.StatusMessage ?? "The task failed.",
                    (McpErrorCode)(error?["code"]?.GetValue<int>() ?? (int)McpErrorCode.InternalError));
            default:
                throw new McpProtocolException($"Task {task.Id} was cancelled; it has no result.", McpErrorCode.InvalidParams);
        }
    }

    private static async ValueTask<JsonNode?> ListAsync(RequestContext<JsonNode?> context, CancellationToken cancellationToken)
    {
        const int PageSize = 100;
        var agent = context.Server.Services!.GetRequiredService<AgentIdentity>().Of(context);
        DateTimeOffset? before = null;
        if (context.Params?["cursor"] is JsonValue cursor)
        {
            before = long.TryParse(cursor.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var at)
                ? DateTimeOffset.FromUnixTimeMilliseconds(at)
                : throw AgentReplies.InvalidCursor();
        }

        var tasks = await context.Server.Services!.GetRequiredService<GatewayStore>().ListTasksAsync(agent, before, PageSize + 1, cancellationToken);
        var page = tasks.Take(PageSize).ToList();
        var result = new JsonObject { ["tasks"] = new JsonArray(page.Select(t => (JsonNode)ToWire(t)).ToArray()) };
        if (tasks.Count > PageSize)
        {
            result["nextCursor"] = page[^1].CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        }

        return result;
    }

    private static async ValueTask<JsonNode?> CancelAsync(RequestContext<JsonNode?> context, CancellationToken cancellationToken)
    {
        var task = await FindAsync(context, cancellationToken);
        if (task.IsTerminal)
        {
            throw new McpProtocolException($"Cannot cancel task {task.Id}: it is already {task.Status}.", McpErrorCode.InvalidParams);
        }

        var cancelled = await context.Server.Services!.GetRequiredService<McpTaskRunner>().CancelAsync(task, cancellationToken)
            ?? throw new McpProtocolException($"Cannot cancel task {task.Id}: it ended meanwhile.", McpErrorCode.InvalidParams);
        return ToWire(cancelled);
    }

    /// <summary>The caller's own task; another agent's task answers exactly like an unknown one.</summary>
    private static async Task<TaskRecord> FindAsync(RequestContext<JsonNode?> context, CancellationToken cancellationToken)
    {
        var id = context.Params?["taskId"] is JsonValue value && value.TryGetValue<string>(out var s) ? s
            : throw new McpProtocolException("Missing taskId", McpErrorCode.InvalidParams);
        var agent = context.Server.Services!.GetRequiredService<AgentIdentity>().Of(context);
        return await context.Server.Services!.GetRequiredService<GatewayStore>().GetTaskAsync(id, agent, cancellationToken) ?? throw NotFound(id);
    }

    private static McpProtocolException NotFound(string id) => new($"Task not found: '{id}'", McpErrorCode.InvalidParams);

    private static JsonObject ToWire(TaskRecord task) => new()
    {
        ["taskId"] = task.Id,
        ["status"] = task.Status,
        ["statusMessage"] = task.StatusMessage,
        ["createdAt"] = task.CreatedAt.ToString("O", CultureInfo.InvariantCulture),
        ["lastUpdatedAt"] = task.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
        ["ttl"] = (long)task.Ttl.TotalMilliseconds,
        ["pollInterval"] = (long)McpTaskRunner.PollInterval.TotalMilliseconds,
    };

    /// <summary>Declares the tasks capability and lets clients augment any tool call with a task.</summary>
    private static void Advertise(JsonRpcMessage message)
    {
        if (message is not JsonRpcResponse { Result: JsonObject result })
        {
            return;
        }

        if (result["capabilities"] is JsonObject capabilities && result.ContainsKey("serverInfo"))
        {
            capabilities["tasks"] = new JsonObject
            {
                ["list"] = new JsonObject(),
                ["cancel"] = new JsonObject(),
                ["requests"] = new JsonObject { ["tools"] = new JsonObject { ["call"] = new JsonObject() } },
            };
        }
        else if (result["tools"] is JsonArray tools)
        {
            foreach (var tool in tools.OfType<JsonObject>())
            {
                if (tool["execution"] is not JsonObject)
                {
                    tool["execution"] = new JsonObject { ["taskSupport"] = "optional" };
                }
            }
        }
    }

    private static McpServerRequestHandler Handler(string method, McpRequestHandler<JsonNode?, JsonNode?> handler) =>
        new() { Method = method, Handler = handler };

    private static readonly JsonSerializerOptions WireOptions = new(JsonSerializerOptions.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)WireOptions.GetTypeInfo(typeof(T));

    /// <summary>The answer to a task-augmented request.</summary>
    public sealed class CreateTaskResult : Result
    {
        [System.Text.Json.Serialization.JsonPropertyName("task")]
        public required JsonObject Task { get; init; }
    }
}
