using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace ApprovalBot.Tests.Upstreams;

/// <summary>
/// A real MCP server (the C# SDK over Streamable HTTP, Kestrel on loopback) inside the test process:
/// an upstream whose tools, prompts and resources a test sets and changes (the SDK announces each change
/// with list_changed), and which records every HTTP request's headers. No child process, no npm.
/// </summary>
public sealed class InProcessUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessUpstream(WebApplication app, string url, Collections collections)
    {
        _app = app;
        Url = url;
        Tools = collections.Tools;
        Prompts = collections.Prompts;
        Resources = collections.Resources;
    }

    public string Url { get; }

    private volatile TaskCompletionSource? _held;

    /// <summary>From now on every request waits (a slow or hung server) until <see cref="Release"/>.</summary>
    public void Hold() => _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Interlocked.Exchange(ref _held, null)?.TrySetResult();

    /// <summary>How many requests are waiting in <see cref="Hold"/> right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    private int _waiting;

    /// <summary>The server's own lists: adding or removing sends list_changed to connected clients.</summary>
    public McpServerPrimitiveCollection<McpServerTool> Tools { get; }

    public McpServerPrimitiveCollection<McpServerPrompt> Prompts { get; }

    public McpServerResourceCollection Resources { get; }

    /// <summary>The headers of every HTTP request that reached the server, in order.</summary>
    public ConcurrentQueue<IReadOnlyDictionary<string, string>> RequestHeaders { get; } = new();

    /// <summary>The arguments of every tools/call, by tool name, in order.</summary>
    public ConcurrentQueue<(string Tool, IDictionary<string, System.Text.Json.JsonElement>? Arguments)> Calls { get; } = new();

    public static async Task<InProcessUpstream> StartAsync(string name, params string[] tools)
    {
        InProcessUpstream? upstream = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var collections = new Collections(new(), new(), new());
        foreach (var tool in tools)
        {
            collections.Tools.Add(Tool(tool));
        }

        builder.Services
            .AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = name, Version = "1.0.0" };
                o.ToolCollection = collections.Tools;
                o.PromptCollection = collections.Prompts;
                o.ResourceCollection = collections.Resources;
            })
            .WithHttpTransport(o =>
            {
                // With sessions (protocol 2025-11-25, as most servers speak it today) the SDK pushes every
                // change of a list to each session as list_changed; a stateless server could not.
                o.SessionMode = ModelContextProtocol.AspNetCore.HttpServerSessionMode.Stateful;
            })
            .WithRequestFilters(f => f.AddCallToolFilter(next => (context, ct) =>
            {
                upstream!.Calls.Enqueue((context.Params!.Name, context.Params.Arguments));
                return next(context, ct);
            }));
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            upstream!.RequestHeaders.Enqueue(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
            if (upstream._held is { } held && context.Request.Method == "POST")
            {
                Interlocked.Increment(ref upstream._waiting);
                try
                {
                    await held.Task.WaitAsync(context.RequestAborted);
                }
                finally
                {
                    Interlocked.Decrement(ref upstream._waiting);
                }
            }

            await next(context);
        });
        app.MapMcp("/mcp");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream = new InProcessUpstream(app, address.TrimEnd('/') + "/mcp", collections);
        return upstream;
    }

    private sealed record Collections(
        McpServerPrimitiveCollection<McpServerTool> Tools,
        McpServerPrimitiveCollection<McpServerPrompt> Prompts,
        McpServerResourceCollection Resources);

    /// <summary>A tool that answers "<paramref name="name"/>: {arguments}" as text.</summary>
    public static McpServerTool Tool(string name, bool readOnly = false, bool destructive = false) =>
        McpServerTool.Create(
            (RequestContext<CallToolRequestParams> context) => $"{name}: {System.Text.Json.JsonSerializer.Serialize(context.Params?.Arguments ?? new Dictionary<string, System.Text.Json.JsonElement>())}",
            new McpServerToolCreateOptions { Name = name, ReadOnly = readOnly, Destructive = destructive, Description = $"The {name} tool." });

    public static McpServerPrompt Prompt(string name) =>
        McpServerPrompt.Create(() => $"the {name} prompt", new McpServerPromptCreateOptions { Name = name });

    public static McpServerResource Resource(string uriTemplate, string name) =>
        McpServerResource.Create(() => $"the {name} resource", new McpServerResourceCreateOptions { UriTemplate = uriTemplate, Name = name });

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
