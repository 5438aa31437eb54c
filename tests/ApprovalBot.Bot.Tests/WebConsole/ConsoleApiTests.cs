using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ApprovalBot.Bot.WebConsole;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Tests.WebConsole;

/// <summary>The console API's cancel (withdraw) endpoint and the waiting/collect/lapsed states, in the bot test host.</summary>
public sealed class ConsoleApiTests : SlackHostTestBase
{
    private HttpRequestMessage Request(HttpMethod method, string path, string? token = SlackBotHost.ConsoleToken, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? token = SlackBotHost.ConsoleToken, object? body = null)
    {
        using var request = Request(method, path, token, body);
        using var response = await Bot.Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    public async Task Cancel_needs_the_admin_token(string? token)
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        var (status, body) = await SendAsync(HttpMethod.Post, $"/api/approvals/{approval.Id}/cancel", token, new { comment = "no" });

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("unauthorized", body.GetProperty("error").GetString());
        Assert.Empty(Bot.Decisions.Commands);
        Assert.Equal(ApprovalStatus.Pending, Bot.ReadModel.Get(approval.Id)!.Status);
    }

    [Fact]
    public async Task Cancel_withdraws_as_console_admin_then_answers_409_and_404_for_unknown()
    {
        var approval = TestApprovals.Pending();
        Bot.ReadModel.Put(approval);

        var (status, body) = await SendAsync(HttpMethod.Post, $"/api/approvals/{approval.Id}/cancel", body: new { comment = "raised by mistake" });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Withdrawn by console admin.", body.GetProperty("message").GetString());
        Assert.Equal("Cancelled", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("accepted").GetBoolean());
        var command = Assert.Single(Bot.Decisions.Commands);
        Assert.Equal(approval.Id, command.ApprovalId);
        Assert.True(command.Withdraw);
        Assert.False(command.Approve);
        Assert.Equal(ConsoleEndpoints.ConsoleAdmin, command.Approver);
        Assert.Equal("console", command.Channel);
        Assert.Equal("raised by mistake", command.Comment);

        var (again, againBody) = await SendAsync(HttpMethod.Post, $"/api/approvals/{approval.Id}/cancel", body: new { comment = "again" });
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal("Already cancelled by console admin.", againBody.GetProperty("message").GetString());

        var (unknown, _) = await SendAsync(HttpMethod.Post, $"/api/approvals/{Guid.NewGuid()}/cancel", body: new { comment = "x" });
        Assert.Equal(HttpStatusCode.NotFound, unknown);

        // Without a body, like approve.
        var other = TestApprovals.Pending();
        Bot.ReadModel.Put(other);
        using var bare = Request(HttpMethod.Post, $"/api/approvals/{other.Id}/cancel");
        using var bareResponse = await Bot.Client.SendAsync(bare);
        Assert.Equal(HttpStatusCode.OK, bareResponse.StatusCode);
        Assert.Null(Bot.Decisions.Commands[^1].Comment);
    }

    [Fact]
    public async Task The_list_says_whether_the_agent_waits_when_it_collects_and_that_a_lapsed_one_never_ran()
    {
        var alice = new Approver("slack", TestApprovals.Approver, "alice", SlackTestRequests.TeamId);
        var now = DateTimeOffset.UtcNow;
        var waiting = TestApprovals.Pending(requestedAt: now.AddMinutes(-3));
        var away = TestApprovals.Pending(requestedAt: now.AddMinutes(-2)) with { AgentWaiting = false };
        var collectBy = now.AddMinutes(20);
        var awaiting = TestApprovals.Pending(requestedAt: now.AddMinutes(-1)) with { Status = ApprovalStatus.Approved, DecidedBy = alice, ResolvedAt = now, CollectBy = collectBy };
        var lapsed = TestApprovals.Pending(requestedAt: now.AddMinutes(-40)) with { Status = ApprovalStatus.Lapsed, DecidedBy = alice, ResolvedAt = now.AddMinutes(-35), CollectBy = now.AddMinutes(-5) };
        foreach (var view in new[] { waiting, away, awaiting, lapsed })
        {
            Bot.ReadModel.Put(view);
        }

        var (status, pending) = await SendAsync(HttpMethod.Get, "/api/approvals?status=pending");
        Assert.Equal(HttpStatusCode.OK, status);
        var byId = pending.EnumerateArray().ToDictionary(a => a.GetProperty("id").GetGuid());
        Assert.Equal(2, byId.Count);
        Assert.True(byId[waiting.Id].GetProperty("agentWaiting").GetBoolean());
        Assert.Equal("Agent waiting", byId[waiting.Id].GetProperty("state").GetString());
        Assert.False(byId[away.Id].GetProperty("agentWaiting").GetBoolean());
        Assert.Equal("The agent will collect this on its next call", byId[away.Id].GetProperty("state").GetString());

        var (_, approved) = await SendAsync(HttpMethod.Get, "/api/approvals?status=approved");
        var one = Assert.Single(approved.EnumerateArray());
        Assert.Equal(collectBy, one.GetProperty("collectBy").GetDateTimeOffset());
        Assert.Equal($"Approved by alice — runs when the agent calls again (until {ApprovalBot.Bot.Approvals.ApprovalText.Clock(collectBy, now)}).", one.GetProperty("state").GetString());

        var (lapsedStatus, lapsedList) = await SendAsync(HttpMethod.Get, "/api/approvals?status=lapsed");
        Assert.Equal(HttpStatusCode.OK, lapsedStatus);
        var only = Assert.Single(lapsedList.EnumerateArray());
        Assert.Equal(lapsed.Id, only.GetProperty("id").GetGuid());
        Assert.Equal("Lapsed", only.GetProperty("status").GetString());
        Assert.Equal("Approved by alice; the agent never came back for it — nothing ran.", only.GetProperty("state").GetString());
    }

    [Fact]
    public async Task The_page_offers_withdraw_on_pending_rows_through_the_cancel_endpoint()
    {
        using var response = await Bot.Client.GetAsync("/approvals");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("className: \"withdraw\"", html, StringComparison.Ordinal);
        Assert.Contains("decide(a.id, \"cancel\"", html, StringComparison.Ordinal);
        Assert.Contains("/api/approvals/${id}/${action}", html, StringComparison.Ordinal);
        Assert.Contains("textContent: a.state", html, StringComparison.Ordinal);
    }
}
