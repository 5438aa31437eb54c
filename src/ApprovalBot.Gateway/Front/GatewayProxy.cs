using System.Globalization;
using System.Text.Json.Nodes;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Upstreams;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using ApprovalBot.Gateway.Replies;

namespace ApprovalBot.Gateway.Front;

/// <summary>
/// The MCP request handlers of the front: each forwards to the upstream that owns the name or
/// URI, unchanged but for the prefix. Policy is not decided here but in the request filters.
/// </summary>
public sealed class GatewayProxy(UpstreamRegistry upstreams, AgentSessions sessions, GatewayOptions options, TimeProvider time)
{
    /// <summary>Set on the request context: how long the upstream took, so the filter can tell the gateway's own overhead.</summary>
    public const string UpstreamMillisecondsItem = "approvalbot.upstream_ms";

    /// <summary>How many "waiting for approval" progress notifications the call had before it ran (a long).</summary>
    public const string HeldProgressItem = "approvalbot.held_progress";

    // Every list waits for the start-up catalogue: a client that lists once, at once, sees every upstream.
    public async ValueTask<ListToolsResult> ListToolsAsync(RequestContext<ListToolsRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        var (page, next) = Page(upstreams.Catalog.Tools, context.Params?.Cursor);
        return new ListToolsResult { Tools = page.Select(t => t.Exposed).ToList(), NextCursor = next };
    }

    /// <summary>Forwards a call that the enforcement filter let through.</summary>
    public async ValueTask<CallToolResult> CallToolAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        var name = context.Params?.Name;
        if (name is null || await upstreams.FindToolAsync(name, cancellationToken) is not { } tool)
        {
            throw AgentReplies.UnknownTool(name);
        }

        var heldProgress = context.Items.TryGetValue(HeldProgressItem, out var sent) && sent is long steps ? steps : 0;
        using var call = sessions.BeginCall(context.Server, tool.Upstream, context.Params!.ProgressToken, heldProgress);
        var forwarded = new CallToolRequestParams
        {
            Name = tool.UpstreamName,
            Arguments = context.Params.Arguments,
            Meta = ForwardMeta(context.Params.Meta, call),
        };
        var started = time.GetTimestamp();
        try
        {
            var result = await tool.Upstream.CallToolAsync(forwarded, cancellationToken);
            context.Items[UpstreamMillisecondsItem] = time.GetElapsedTime(started).TotalMilliseconds;
            return result;
        }
        catch (UpstreamUnavailableException e)
        {
            return AgentReplies.UpstreamUnavailable(e);
        }
        catch (UpstreamTimeoutException e)
        {
            return AgentReplies.UpstreamTimedOut(e);
        }
    }

    public async ValueTask<ListPromptsResult> ListPromptsAsync(RequestContext<ListPromptsRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        var (page, next) = Page(upstreams.Catalog.Prompts, context.Params?.Cursor);
        return new ListPromptsResult { Prompts = page.Select(p => p.Exposed).ToList(), NextCursor = next };
    }

    public async ValueTask<GetPromptResult> GetPromptAsync(RequestContext<GetPromptRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        var name = context.Params?.Name;
        if (name is null || !upstreams.Catalog.PromptsByName.TryGetValue(name, out var prompt))
        {
            throw AgentReplies.UnknownPrompt(name);
        }

        using var call = sessions.BeginCall(context.Server, prompt.Upstream, context.Params!.ProgressToken);
        var request = new GetPromptRequestParams { Name = prompt.UpstreamName, Arguments = context.Params.Arguments, Meta = ForwardMeta(context.Params.Meta, call) };
        return await prompt.Upstream.ForwardAsync(RequestMethods.PromptsGet, (client, ct) => client.GetPromptAsync(request, ct), cancellationToken);
    }

    public async ValueTask<ListResourcesResult> ListResourcesAsync(RequestContext<ListResourcesRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        var (page, next) = Page(upstreams.Catalog.Resources, context.Params?.Cursor);
        return new ListResourcesResult { Resources = page.Select(r => r.Resource).ToList(), NextCursor = next };
    }

    public async ValueTask<ListResourceTemplatesResult> ListResourceTemplatesAsync(RequestContext<ListResourceTemplatesRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        var (page, next) = Page(upstreams.Catalog.Templates, context.Params?.Cursor);
        return new ListResourceTemplatesResult { ResourceTemplates = page.Select(t => t.Template).ToList(), NextCursor = next };
    }

    public async ValueTask<ReadResourceResult> ReadResourceAsync(RequestContext<ReadResourceRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        var uri = context.Params?.Uri ?? throw new McpProtocolException("Missing uri", McpErrorCode.InvalidParams);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        var owner = upstreams.Catalog.FindResourceOwner(uri) ?? throw new McpProtocolException($"Resource not found: '{uri}'", McpErrorCode.ResourceNotFound);
        using var call = sessions.BeginCall(context.Server, owner, context.Params.ProgressToken);
        var request = new ReadResourceRequestParams { Uri = uri, Meta = ForwardMeta(context.Params.Meta, call) };
        return await owner.ForwardAsync(RequestMethods.ResourcesRead, (client, ct) => client.ReadResourceAsync(request, ct), cancellationToken);
    }

    public async ValueTask<EmptyResult> SubscribeAsync(RequestContext<SubscribeRequestParams> context, CancellationToken cancellationToken)
    {
        var uri = context.Params?.Uri ?? throw new McpProtocolException("Missing uri", McpErrorCode.InvalidParams);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        var owner = upstreams.Catalog.FindResourceOwner(uri) ?? throw new McpProtocolException($"Resource not found: '{uri}'", McpErrorCode.ResourceNotFound);
        sessions.Subscribe(context.Server, uri);
        await owner.ForwardAsync(
            RequestMethods.ResourcesSubscribe,
            async (client, ct) =>
            {
                await client.SubscribeToResourceAsync(new SubscribeRequestParams { Uri = uri }, ct);
                return true;
            },
            cancellationToken);
        return new EmptyResult();
    }

    public ValueTask<EmptyResult> UnsubscribeAsync(RequestContext<UnsubscribeRequestParams> context, CancellationToken cancellationToken)
    {
        // Other agents may still be subscribed through the shared connection, so only this session stops hearing.
        var uri = context.Params?.Uri ?? throw new McpProtocolException("Missing uri", McpErrorCode.InvalidParams);
        sessions.Unsubscribe(context.Server, uri);
        return ValueTask.FromResult(new EmptyResult());
    }

    public async ValueTask<CompleteResult> CompleteAsync(RequestContext<CompleteRequestParams> context, CancellationToken cancellationToken)
    {
        sessions.Touch(context.Server);
        var request = context.Params ?? throw new McpProtocolException("Missing params", McpErrorCode.InvalidParams);
        await upstreams.WaitForCatalogAsync(cancellationToken);
        switch (request.Ref)
        {
            case PromptReference prompt when upstreams.Catalog.PromptsByName.TryGetValue(prompt.Name, out var entry):
                var forwarded = new CompleteRequestParams { Ref = new PromptReference { Name = entry.UpstreamName }, Argument = request.Argument, Context = request.Context };
                return await entry.Upstream.ForwardAsync(RequestMethods.CompletionComplete, (client, ct) => client.CompleteAsync(forwarded, ct), cancellationToken);
            case ResourceTemplateReference resource when upstreams.Catalog.FindResourceOwner(resource.Uri ?? "") is { } owner:
                return await owner.ForwardAsync(RequestMethods.CompletionComplete, (client, ct) => client.CompleteAsync(request, ct), cancellationToken);
            default:
                return new CompleteResult { Completion = new Completion { Values = [] } };
        }
    }

    public async ValueTask<EmptyResult> SetLoggingLevelAsync(RequestContext<SetLevelRequestParams> context, CancellationToken cancellationToken)
    {
        // Upstream connections are shared: ask each for the most verbose level; the gateway filters per session.
        sessions.Touch(context.Server);
        foreach (var upstream in upstreams.Connections.Where(u => u.Connected && u.Lists.Capabilities?.Logging is not null))
        {
            try
            {
                await upstream.ForwardAsync(
                    RequestMethods.LoggingSetLevel,
                    async (client, ct) =>
                    {
                        await client.SetLoggingLevelAsync(LoggingLevel.Debug, cancellationToken: ct);
                        return true;
                    },
                    cancellationToken);
            }
            catch (McpException)
            {
                // Best effort: an upstream that refuses, is down or hangs keeps its own level.
            }
        }

        return new EmptyResult();
    }

    private (IReadOnlyList<T> Page, string? Next) Page<T>(IReadOnlyList<T> all, string? cursor)
    {
        var offset = 0;
        if (cursor is not null && (!cursor.StartsWith('o') || !int.TryParse(cursor.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > all.Count))
        {
            throw AgentReplies.InvalidCursor();
        }

        var size = Math.Max(1, options.PageSize);
        var page = all.Skip(offset).Take(size).ToList();
        var next = offset + size < all.Count ? "o" + (offset + size).ToString(CultureInfo.InvariantCulture) : null;
        return (page, next);
    }

    /// <summary>
    /// What a 2026-07-28 client puts in every request's _meta to describe itself and its protocol: true of
    /// the agent's hop only. Forwarded, they would pass the agent's protocol version off as the gateway's.
    /// </summary>
    private static readonly string[] HopMetaKeys = [MetaKeys.ProtocolVersion, MetaKeys.ClientInfo, MetaKeys.ClientCapabilities, MetaKeys.LogLevel];

    /// <summary>Keeps the agent's _meta but swaps its progress token for the gateway's own.</summary>
    private static JsonObject? ForwardMeta(JsonObject? meta, InFlightCall call)
    {
        if (meta is null && call.AgentToken is null)
        {
            return null;
        }

        var forwarded = meta?.DeepClone().AsObject() ?? new JsonObject();
        foreach (var key in HopMetaKeys)
        {
            forwarded.Remove(key);
        }

        if (call.AgentToken is not null)
        {
            forwarded["progressToken"] = call.GatewayToken.ToString();
        }

        return forwarded;
    }
}
