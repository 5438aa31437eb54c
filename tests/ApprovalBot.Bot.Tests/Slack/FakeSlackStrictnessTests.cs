using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>
/// The fake refuses what Slack refuses, so a test passing against it means Slack would accept the
/// same requests: a token is required and must be of the right type, chat.update needs a message
/// Slack knows, and every message and modal is held to Block Kit's published limits.
/// </summary>
public sealed class FakeSlackStrictnessTests : IAsyncLifetime
{
    private FakeSlackApi _slack = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _slack = await FakeSlackApi.StartAsync();
        _http = new HttpClient { BaseAddress = _slack.ApiBaseUrl };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _slack.DisposeAsync();
    }

    private async Task<JsonObject> CallAsync(string method, JsonObject body, string? token = FakeSlackApi.DefaultBotToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, method) { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await _http.SendAsync(request);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static string? Error(JsonObject answer) => answer["ok"]!.GetValue<bool>() ? null : answer["error"]!.GetValue<string>();

    private static JsonObject Section(string text) => new() { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = text } };

    private static JsonObject Message(params JsonObject[] blocks) => new() { ["channel"] = "C0APPROVALS", ["text"] = "fallback", ["blocks"] = new JsonArray(blocks) };

    [Fact]
    public async Task A_token_is_required_and_must_be_the_right_one_of_the_right_type()
    {
        Assert.Equal("not_authed", Error(await CallAsync("auth.test", [], token: null)));
        Assert.Equal("invalid_auth", Error(await CallAsync("auth.test", [], token: "xoxb-someone-else")));
        Assert.Equal("not_allowed_token_type", Error(await CallAsync("auth.test", [], token: FakeSlackApi.DefaultAppToken)));
        Assert.Equal("not_allowed_token_type", Error(await CallAsync("apps.connections.open", [], token: FakeSlackApi.DefaultBotToken)));
        Assert.Null(Error(await CallAsync("apps.connections.open", [], token: FakeSlackApi.DefaultAppToken)));
        Assert.Null(Error(await CallAsync("auth.test", [])));
    }

    [Fact]
    public async Task Only_a_message_slack_knows_can_be_updated()
    {
        var posted = await CallAsync("chat.postMessage", Message(Section("hello")));
        var ts = posted["ts"]!.GetValue<string>();

        Assert.Null(Error(await CallAsync("chat.update", new JsonObject { ["channel"] = "C0APPROVALS", ["ts"] = ts, ["text"] = "edited" })));
        Assert.Equal("message_not_found", Error(await CallAsync("chat.update", new JsonObject { ["channel"] = "C0APPROVALS", ["ts"] = "1700000000.000999", ["text"] = "x" })));
        Assert.Equal("message_not_found", Error(await CallAsync("chat.update", new JsonObject { ["channel"] = "C0OTHER", ["ts"] = ts, ["text"] = "x" })));
    }

    [Fact]
    public async Task A_message_over_block_kit_limits_is_refused_as_invalid_blocks()
    {
        var tooMany = Enumerable.Range(0, 51).Select(i => Section($"block {i}")).ToArray();

        var answer = await CallAsync("chat.postMessage", Message(tooMany.Select(b => (JsonObject)b.DeepClone()).ToArray()));

        Assert.Equal("invalid_blocks", Error(answer));
        Assert.Contains("51 blocks, more than 50", answer["errors"]![0]!.GetValue<string>());
        Assert.Single(_slack.InvalidPayloads);
        Assert.Null(Error(await CallAsync("chat.postMessage", Message(tooMany[..50].Select(b => (JsonObject)b.DeepClone()).ToArray()))));
    }

    public static TheoryData<string, string> BrokenBlocks() => new()
    {
        { """{"type":"header","text":{"type":"plain_text","text":"%151%"}}""", "blocks[0].text.text: 151 characters" },
        { """{"type":"header","text":{"type":"mrkdwn","text":"*bold*"}}""", "blocks[0].text.type: 'mrkdwn' is not plain_text" },
        { """{"type":"section","text":{"type":"mrkdwn","text":"%3001%"}}""", "blocks[0].text.text: 3001 characters" },
        { """{"type":"section","text":{"type":"mrkdwn","text":""}}""", "blocks[0].text.text: 0 characters" },
        { """{"type":"section"}""", "a section needs text or fields" },
        { """{"type":"section","fields":[{"type":"mrkdwn","text":"%2001%"}]}""", "blocks[0].fields[0].text: 2001 characters" },
        { """{"type":"context","elements":[]}""", "blocks[0].elements: missing or empty" },
        { """{"type":"actions","elements":[{"type":"button","action_id":"approve","text":{"type":"plain_text","text":"%76%"}}]}""", "blocks[0].elements[0].text.text: 76 characters" },
        { """{"type":"actions","elements":[{"type":"button","action_id":"%256%","text":{"type":"plain_text","text":"Go"}}]}""", "blocks[0].elements[0].action_id: 256 characters" },
        { """{"type":"actions","elements":[{"type":"button","action_id":"a","value":"%2001%","text":{"type":"plain_text","text":"Go"}}]}""", "blocks[0].elements[0].value: 2001 characters" },
        { """{"type":"actions","elements":[{"type":"button","action_id":"a","style":"green","text":{"type":"plain_text","text":"Go"}}]}""", "style: 'green'" },
        { """{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"A"}},{"type":"button","action_id":"a","text":{"type":"plain_text","text":"B"}}]}""", "'a' is used twice in the block" },
        { """{"type":"actions","elements":[{"type":"button","action_id":"a","text":{"type":"plain_text","text":"Go"},"confirm":{"title":{"type":"plain_text","text":"%101%"},"text":{"type":"mrkdwn","text":"Sure?"},"confirm":{"type":"plain_text","text":"Yes"},"deny":{"type":"plain_text","text":"No"}}}]}""", "confirm.title.text: 101 characters" },
        { """{"type":"input","label":{"type":"plain_text","text":"Why"},"element":{"type":"plain_text_input","action_id":"c","max_length":3001}}""", "max_length: 3001 is outside 0..3000" },
        { """{"type":"rainbow"}""", "'rainbow' is not a block type" },
    };

    [Theory]
    [MemberData(nameof(BrokenBlocks))]
    public void Each_published_limit_is_checked(string block, string problem)
    {
        var expanded = System.Text.RegularExpressions.Regex.Replace(block, "%([0-9]+)%", m => new string('x', int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));

        var problems = BlockKitLimits.CheckMessage(new JsonObject { ["blocks"] = new JsonArray(JsonNode.Parse(expanded)) });

        Assert.Contains(problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Block_ids_are_unique_and_a_message_text_has_its_own_limit()
    {
        var twice = new JsonObject { ["blocks"] = new JsonArray(Section("a").Also(b => b["block_id"] = "x"), Section("b").Also(b => b["block_id"] = "x")) };

        Assert.Contains(BlockKitLimits.CheckMessage(twice), p => p.Contains("'x' is used twice", StringComparison.Ordinal));
        Assert.Contains(BlockKitLimits.CheckMessage(new JsonObject { ["text"] = new string('x', 40_001) }), p => p.StartsWith("text: 40001", StringComparison.Ordinal));
    }

    [Fact]
    public void A_modal_is_held_to_its_own_limits()
    {
        var modal = JsonNode.Parse("""
            {"type":"modal","title":{"type":"plain_text","text":"Deny agentwork_cancel_task"},"submit":{"type":"plain_text","text":"Deny"},
             "private_metadata":"x","callback_id":"deny","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"ok"}}]}
            """);

        Assert.Contains(BlockKitLimits.CheckView(modal), p => p.StartsWith("view.title.text: 26 characters", StringComparison.Ordinal));
        modal!["title"]!["text"] = "Deny";
        Assert.Empty(BlockKitLimits.CheckView(modal));
        modal["private_metadata"] = new string('m', 3001);
        Assert.Contains(BlockKitLimits.CheckView(modal), p => p.StartsWith("view.private_metadata: 3001", StringComparison.Ordinal));
    }
}

internal static class JsonObjectExtensions
{
    public static JsonObject Also(this JsonObject node, Action<JsonObject> change)
    {
        change(node);
        return node;
    }
}
