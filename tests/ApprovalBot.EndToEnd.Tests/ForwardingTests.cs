using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Transparency beyond tools/call: prompts, resources, completions, and the upstream's own requests
/// to the client (sampling, elicitation, roots) reaching the agent that caused them.
/// </summary>
public sealed class ForwardingTests : IAsyncLifetime
{
    private const string AllowAll = """{ "version": "1", "default": "allow", "rules": {} }""";
    private GatewayHost _host = null!;

    public async Task InitializeAsync() => _host = await GatewayHost.StartAsync(policy: AllowAll);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string Texts(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    [Fact]
    public async Task Sampling_request_from_the_upstream_is_answered_by_the_calling_agent()
    {
        var options = new McpClientOptions
        {
            Capabilities = new ClientCapabilities { Sampling = new SamplingCapability() },
            Handlers = new McpClientHandlers
            {
                SamplingHandler = (request, _, _) => ValueTask.FromResult(new CreateMessageResult
                {
                    Model = "agent-side-model",
                    Role = Role.Assistant,
                    Content = [new TextContentBlock { Text = "sampled-by-the-agent-42" }],
                }),
            },
        };
        await using var client = await _host.ConnectAsync(options: options);
        var tools = await Eventually.GetAsync(async () => (await client.ListToolsAsync()).Select(t => t.Name).ToList(), t => t?.Contains("everything_trigger-sampling-request") == true, what: "the sampling tool");

        var result = await client.CallToolAsync("everything_trigger-sampling-request", new Dictionary<string, object?> { ["prompt"] = "say hi", ["maxTokens"] = 20 });

        Assert.True(result.IsError != true, Texts(result));
        Assert.Contains("sampled-by-the-agent-42", Texts(result));
    }

    [Fact]
    public async Task Elicitation_and_roots_reach_the_agent()
    {
        var options = new McpClientOptions
        {
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability(), Roots = new RootsCapability() },
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) => ValueTask.FromResult(new ElicitResult
                {
                    Action = "accept",
                    Content = new Dictionary<string, JsonElement>
                    {
                        ["name"] = JsonSerializer.SerializeToElement("Ada"),
                        ["color"] = JsonSerializer.SerializeToElement("blue"),
                    },
                }),
                RootsHandler = (_, _) => ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///srv/agent-root", Name = "agent root" }] }),
            },
        };
        await using var client = await _host.ConnectAsync(options: options);
        await Eventually.GetAsync(async () => (await client.ListToolsAsync()).Select(t => t.Name).ToList(), t => t?.Contains("everything_get-roots-list") == true, what: "the roots tool");

        var roots = await client.CallToolAsync("everything_get-roots-list");
        Assert.Contains("file:///srv/agent-root", Texts(roots));

        var elicited = await client.CallToolAsync("everything_trigger-elicitation-request");
        Assert.True(elicited.IsError != true, Texts(elicited));
        Assert.Contains("Ada", Texts(elicited));
    }

    [Fact]
    public async Task Prompts_resources_templates_and_completions_pass_through()
    {
        await using var client = await _host.ConnectAsync();

        var prompts = (await client.ListPromptsAsync()).Select(p => p.Name).ToList();
        Assert.Contains("everything_simple-prompt", prompts);
        var prompt = await client.GetPromptAsync("everything_simple-prompt");
        Assert.Equal("This is a simple prompt without arguments.", Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text);

        var resources = await client.ListResourcesAsync();
        var first = resources.First(r => r.Uri.StartsWith("demo://", StringComparison.Ordinal));
        var read = await client.ReadResourceAsync(first.Uri);
        Assert.Equal(first.Uri, Assert.Single(read.Contents).Uri);

        var templates = (await client.ListResourceTemplatesAsync()).Select(t => t.UriTemplate).ToList();
        Assert.Contains("demo://resource/dynamic/text/{resourceId}", templates);
        var dynamic = await client.ReadResourceAsync("demo://resource/dynamic/text/1");
        Assert.StartsWith("Resource 1: This is a plaintext resource", Assert.IsType<TextResourceContents>(Assert.Single(dynamic.Contents)).Text);

        // Completions go to the upstream under its own prompt name and come back as it answered.
        var completion = await client.CompleteAsync(new PromptReference { Name = "everything_completable-prompt" }, "department", "E");
        Assert.Equal(["Engineering"], completion.Completion.Values);
        var several = await client.CompleteAsync(new PromptReference { Name = "everything_completable-prompt" }, "department", "S");
        Assert.Equal(["Sales", "Support"], several.Completion.Values);
        var none = await client.CompleteAsync(new PromptReference { Name = "everything_completable-prompt" }, "department", "X");
        Assert.Empty(none.Completion.Values);
    }
}
