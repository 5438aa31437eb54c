using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Client;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>The HTTP front's hygiene and bad input: nothing malformed or unauthenticated gets through.</summary>
[Collection(SharedGatewayCollection.Name)]
public sealed class FrontTests(SharedGatewayFixture fixture)
{
    private GatewayHost Host => fixture.Host;

    private HttpRequestMessage Post(string body, string? bearer = GatewayHost.AgentKey, string? origin = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Host.McpUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        return request;
    }

    private const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    [Fact]
    public async Task Duplicate_keys_in_nested_arguments_are_invalid_params_and_open_no_approval()
    {
        using var http = new HttpClient();
        var initialized = await http.SendAsync(Post(Initialize));
        var session = initialized.Headers.GetValues("Mcp-Session-Id").Single();
        using var notify = Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
        notify.Headers.Add("Mcp-Session-Id", session);
        await http.SendAsync(notify);
        using var call = Post("""{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"agentwork_cancel_task","arguments":{"task_id":"T-100","o":{"a":1,"a":2}}}}""");
        call.Headers.Add("Mcp-Session-Id", session);

        var response = await (await http.SendAsync(call)).Content.ReadAsStringAsync();

        Assert.Contains("\"code\":-32602", response);
        Assert.Contains("appears more than once", response);
        using var console = Host.ConsoleClient();
        Assert.DoesNotContain(await ConsoleApi.ListAsync(console, "all"), a => a.GetProperty("arguments").GetString()!.Contains("\"o\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Missing_or_wrong_api_key_is_401()
    {
        using var http = new HttpClient();
        var missing = await http.SendAsync(Post(Initialize, bearer: null));
        var wrong = await http.SendAsync(Post(Initialize, bearer: "sk-not-a-key"));

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task Foreign_browser_origin_is_refused_and_loopback_is_accepted()
    {
        using var http = new HttpClient();
        var evil = await http.SendAsync(Post(Initialize, origin: "https://evil.example"));
        var local = await http.SendAsync(Post(Initialize, origin: "http://localhost:3000"));

        Assert.Equal(HttpStatusCode.Forbidden, evil.StatusCode);
        Assert.Equal(HttpStatusCode.OK, local.StatusCode);
    }

    [Fact]
    public async Task Foreign_host_name_is_refused_and_loopback_names_are_accepted()
    {
        using var http = new HttpClient();
        var rebound = Post(Initialize);
        rebound.Headers.Host = $"attacker.example:{Host.McpUrl.Port}";
        var localhost = Post(Initialize);
        localhost.Headers.Host = $"localhost:{Host.McpUrl.Port}";

        var refused = await http.SendAsync(rebound);
        var accepted = await http.SendAsync(localhost);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("forbidden_host", await refused.Content.ReadAsStringAsync());
        Assert.Contains("AllowedHosts", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(Post(Initialize))).StatusCode);
    }

    [Fact]
    public async Task Oversize_body_is_413()
    {
        using var http = new HttpClient();
        var huge = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"pad\":\"" + new string('x', 2 * 1024 * 1024) + "\"}}";
        var response = await http.SendAsync(Post(huge));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Malformed_json_rpc_is_rejected_without_crashing_the_gateway()
    {
        using var http = new HttpClient();
        var garbage = await http.SendAsync(Post("{ this is not json"));
        var notRpc = await http.SendAsync(Post("""{"hello":"world"}"""));

        Assert.True(garbage.StatusCode is HttpStatusCode.BadRequest);
        Assert.True(notRpc.StatusCode is HttpStatusCode.BadRequest);
        // Still serving.
        await using var client = await Host.ConnectAsync();
        Assert.NotEmpty(await client.ListToolsAsync());
    }

    [Fact]
    public async Task Unknown_tool_is_a_json_rpc_error()
    {
        await using var client = await Host.ConnectAsync();
        var error = await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("nope_nothing").AsTask());
        Assert.Equal(McpErrorCode.InvalidParams, error.ErrorCode);
        Assert.Contains("Unknown tool: 'nope_nothing'", error.Message);
    }

    [Fact]
    public async Task Health_and_readiness_report_bus_policy_and_upstreams()
    {
        using var http = new HttpClient { BaseAddress = Host.BaseUrl };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var ready = await http.GetAsync("/readyz");
        var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(body.GetProperty("bus").GetProperty("ready").GetBoolean());
        Assert.True(body.GetProperty("policy").GetProperty("loaded").GetBoolean());
        Assert.Equal(["agentwork", "everything"], body.GetProperty("upstreams").EnumerateArray().Select(u => u.GetProperty("name").GetString()).Order());
    }
}
