using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ApprovalBot.Bot.WebConsole;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Core.Approvals;

namespace ApprovalBot.Bot.Tests.WebConsole;

/// <summary>The console API at its edges: the token on every route, unknown ids, the status filter, long comments, and a page that never renders approval text as markup.</summary>
public sealed class ConsoleApiEdgeTests : SlackHostTestBase
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? token = SlackBotHost.ConsoleToken, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await Bot.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("POST", "/{id}/approve")]
    [InlineData("POST", "/{id}/deny")]
    [InlineData("POST", "/{id}/cancel")]
    public async Task Every_api_route_refuses_a_missing_wrong_or_differently_cased_token(string method, string route)
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var path = "/api/approvals" + route.Replace("{id}", approval.Id.ToString(), StringComparison.Ordinal);

        foreach (var token in new[] { null, "", "wrong-token", SlackBotHost.ConsoleToken.ToUpperInvariant(), SlackBotHost.ConsoleToken + "x", SlackBotHost.ConsoleToken[..^1] })
        {
            var (status, body) = await SendAsync(new HttpMethod(method), path, token, method == "POST" ? new { comment = "x" } : null);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Assert.Equal("unauthorized", body.GetProperty("error").GetString());
        }

        Assert.Empty(Bot.Decisions.Commands);
        Assert.Equal(ApprovalStatus.Pending, Bot.ReadModel.Get(approval.Id)!.Status);
    }

    [Theory]
    [InlineData("approve")]
    [InlineData("deny")]
    public async Task A_decision_on_an_unknown_approval_is_404_and_a_malformed_id_never_reaches_the_gateway(string verb)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, $"/api/approvals/{Guid.NewGuid()}/{verb}", body: new { comment = "x" });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.False(body.GetProperty("accepted").GetBoolean());
        Assert.Equal("Unknown", body.GetProperty("status").GetString());

        var (malformed, _) = await SendAsync(HttpMethod.Post, $"/api/approvals/not-a-guid/{verb}", body: new { comment = "x" });
        Assert.Equal(HttpStatusCode.NotFound, malformed);
        Assert.Single(Bot.Decisions.Commands); // only the well-formed one was asked
    }

    [Theory]
    [InlineData("approved")]
    [InlineData("pend")]
    [InlineData("1")]
    [InlineData("42")]
    [InlineData("-1")]
    [InlineData("pending;drop table")]
    public async Task An_unknown_status_filter_is_a_400_that_lists_the_valid_ones(string filter)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, $"/api/approvals?status={Uri.EscapeDataString(filter)}");

        if (filter == "approved")
        {
            // A real status, in any case, is a filter, not an error.
            Assert.Equal(HttpStatusCode.OK, status);
            return;
        }

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("bad_status", body.GetProperty("error").GetString());
        Assert.Equal($"Unknown status '{filter}'. Use one of: all, pending, approved, executed, executionfailed, denied, expired, cancelled, lapsed.", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_status_filter_is_case_insensitive_and_all_lists_every_status()
    {
        var pending = TestApprovals.Pending();
        var denied = TestApprovals.Pending() with { Status = ApprovalStatus.Denied };
        Bot.ReadModel.Put(pending);
        Bot.ReadModel.Put(denied);

        var (_, upper) = await SendAsync(HttpMethod.Get, "/api/approvals?status=DENIED");
        var (_, all) = await SendAsync(HttpMethod.Get, "/api/approvals?status=All");

        Assert.Equal([denied.Id.ToString()], upper.EnumerateArray().Select(a => a.GetProperty("id").GetString()));
        Assert.Equal(2, all.GetArrayLength());
    }

    [Fact]
    public async Task A_comment_longer_than_2000_characters_is_cut_to_2000_before_the_gateway_sees_it()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);
        var comment = string.Concat(Enumerable.Repeat("0123456789", 500));

        var (status, _) = await SendAsync(HttpMethod.Post, $"/api/approvals/{approval.Id}/deny", body: new { comment });

        Assert.Equal(HttpStatusCode.OK, status);
        var sent = Assert.Single(Bot.Decisions.Commands).Comment!;
        Assert.Equal(2000, sent.Length);
        Assert.Equal(comment[..2000], sent);
    }

    [Fact]
    public async Task Arguments_with_markup_come_back_from_the_api_as_plain_json_text()
    {
        const string markup = """<img src=x onerror="alert(1)"><script>alert(2)</script>""";
        var approval = TestApprovals.Pending() is var p ? p with { Request = p.Request with { RedactedArguments = JsonSerializer.Serialize(new { note = markup }), Reason = "<b>bold</b>" } } : null!;
        Bot.ReadModel.Put(approval);

        var (_, list) = await SendAsync(HttpMethod.Get, "/api/approvals?status=pending");

        var row = Assert.Single(list.EnumerateArray());
        Assert.Equal(markup, JsonDocument.Parse(row.GetProperty("arguments").GetString()!).RootElement.GetProperty("note").GetString());
        Assert.Equal("<b>bold</b>", row.GetProperty("reason").GetString());
    }

    [Fact]
    public void The_page_only_ever_sets_approval_text_as_text_never_as_html()
    {
        var page = ConsolePage.Html;

        foreach (var sink in new[] { "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "srcdoc" })
        {
            Assert.DoesNotContain(sink, page, StringComparison.Ordinal);
        }

        Assert.Contains("textContent", page, StringComparison.Ordinal);
    }
}
