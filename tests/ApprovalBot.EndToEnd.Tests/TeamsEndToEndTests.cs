using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Tests.Slack;
using ApprovalBot.Bot.Tests.Teams;
using ApprovalBot.Core.Approvals;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ApprovalBot.Gateway.Storage;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// Teams approvals end to end: the real host (role all, in-memory bus) with the Teams channel
/// pointed at local fakes of the Bot Framework's and the bot's Entra tenant's OpenID metadata/JWKS
/// (<see cref="FakeBotFrameworkAuth"/>, <see cref="FakeEntraTenant"/>) and of the Connector and Entra
/// token endpoint (<see cref="FakeTeamsConnector"/>); clicks are <c>adaptiveCard/action</c> invokes
/// with tokens signed by the fake's published, msteams-endorsed key, or — as a single-tenant bot
/// receives them — issued and signed by the bot's Entra tenant.
/// </summary>
public sealed class TeamsEndToEndTests
{
    /// <summary>The Entra object id the test policy names for agentwork_cancel_task (<c>teams:1111…</c>).</summary>
    /// <remarks>TeamsTestIds.ApproverAadId (0f5c…) is the component tests' approver and is not in the test policy.</remarks>
    internal const string PolicyApproverAadId = "11111111-2222-3333-4444-555555555555";

    private const string Tool = "agentwork_cancel_task";
    private const string SampleResult = "Task T-100 (Nightly data export) cancelled.";
    private const string AdaptiveCardType = "application/vnd.microsoft.card.adaptive";

    [Fact]
    public async Task Card_is_posted_to_the_connector_as_an_adaptive_card_with_execute_actions_and_no_secret()
    {
        await using var rig = await TeamsRig.StartAsync();
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);
        var (id, created) = await rig.WaitForCardAsync();

        Assert.Equal("POST", created.Method);
        Assert.Equal("/teams/", created.ServicePath);
        Assert.StartsWith("Bearer fake-access-token-", created.Authorization);
        Assert.Equal(true, created.Body?["isGroup"]?.GetValue<bool>());
        Assert.Equal(TeamsTestIds.ChannelId, created.Body?["channelData"]?["channel"]?["id"]?.GetValue<string>());
        Assert.Equal(TeamsTestIds.TenantId, created.Body?["channelData"]?["tenant"]?["id"]?.GetValue<string>());
        Assert.Equal("message", created.Activity?["type"]?.GetValue<string>());
        Assert.Equal(AdaptiveCardType, created.CardContentType);

        var card = created.Card!;
        Assert.Equal("AdaptiveCard", card["type"]?.GetValue<string>());
        Assert.Equal("1.5", card["version"]?.GetValue<string>());
        var text = card.ToJsonString();
        Assert.Contains(Tool, text);
        Assert.Contains("Cancels a running task; cannot be undone", text);
        Assert.Contains("test-agent", text);
        Assert.Contains("agentwork", text);
        Assert.Contains("T-100", text);
        Assert.Contains("[redacted]", text);
        Assert.Contains(PolicyApproverAadId, text);
        Assert.Contains(id.ToString(), text);

        // The rule does not say "editable": false, so "Edit, then approve" (a ShowCard) follows the three buttons.
        var all = card["actions"]!.AsArray().Select(a => a!).ToList();
        Assert.Equal("Action.ShowCard", all[^1]["type"]?.GetValue<string>());
        var actions = all[..^1];
        Assert.Equal(3, actions.Count);
        Assert.All(actions, a => Assert.Equal("Action.Execute", a["type"]?.GetValue<string>()));
        Assert.Equal(new[] { "approve", "deny", "withdraw" }, actions.Select(a => a["verb"]?.GetValue<string>()));
        Assert.All(actions, a => Assert.Equal(id.ToString(), a["data"]?["approvalId"]?.GetValue<string>()));
        Assert.All(actions, a => Assert.Equal("Action.Submit", a["fallback"]?["type"]?.GetValue<string>()));
        Assert.Contains(Descendants(card), n => n["type"]?.GetValue<string>() == "Input.Text" && n["id"]?.GetValue<string>() == "comment");

        // Outbound auth: client credentials for the configured tenant.
        Assert.NotEmpty(rig.Connector.TokenRequests);
        Assert.All(rig.Connector.TokenRequests, t => Assert.True(t.Granted));
        Assert.All(rig.Connector.TokenRequests, t => Assert.Equal(TeamsTestIds.TenantId, t.Tenant));
        Assert.Single(rig.Connector.Calls, c => c.Kind == "create");
        Assert.False(call.IsCompleted);

        // The client giving up only detaches (an approval outlives its waiters); a decision ends it.
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var (denied, _) = await ConsoleApi.DecideAsync(rig.Console, id.ToString(), approve: false, "not now");
        Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        var put = await rig.WaitForFinalPutAsync(created, "Denied");
        Assert.Null(put.Card!["actions"]);
        rig.AssertNoSecretReachedTeams();
    }

    [Fact]
    public async Task Signed_approve_invoke_releases_the_call_answers_with_the_updated_card_and_puts_the_activity()
    {
        await using var rig = await TeamsRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, created) = await rig.WaitForCardAsync();

        var (response, answer) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId, name: "Ada Approver"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, answer["statusCode"]?.GetValue<int>());
        Assert.Equal(AdaptiveCardType, answer["type"]?.GetValue<string>());
        var replaced = Assert.IsType<JsonObject>(answer["value"]);
        Assert.Equal("1.5", replaced["version"]?.GetValue<string>());
        Assert.Null(replaced["actions"]);
        Assert.Contains("Approved", replaced.ToJsonString());
        Assert.Contains("Ada Approver", replaced.ToJsonString());

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(result.Content[0]).Text);

        var put = await rig.WaitForFinalPutAsync(created, "Approved");
        Assert.Equal("PUT", put.Method);
        Assert.StartsWith("Bearer fake-access-token-", put.Authorization);
        Assert.Equal(AdaptiveCardType, put.CardContentType);
        Assert.Null(put.Card!["actions"]);
        Assert.Contains("Ada Approver (teams)", put.Card.ToJsonString());

        // The execution outcome follows in the thread, and every PUT of this card is final.
        var reply = await rig.Connector.WaitForCallAsync(c => c.Kind == "send" && c.ConversationId == put.ConversationId && c.Activity?["text"] is not null);
        Assert.Contains("ran upstream", reply.Activity!["text"]!.GetValue<string>());
        Assert.Equal(put.ActivityId, reply.Activity["replyToId"]?.GetValue<string>());
        Assert.All(rig.Connector.Calls.Where(c => c.Kind == "update"), c => Assert.Null(c.Card?["actions"]));
        rig.AssertNoSecretReachedTeams();
    }

    [Fact]
    public async Task Deny_invoke_with_a_comment_reaches_the_agent_with_the_reason()
    {
        await using var rig = await TeamsRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, created) = await rig.WaitForCardAsync();
        const string reason = "not during the quarterly close";

        var (response, answer) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "deny", id, PolicyApproverAadId, comment: reason));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, answer["statusCode"]?.GetValue<int>());
        var replaced = Assert.IsType<JsonObject>(answer["value"]);
        Assert.Null(replaced["actions"]);
        Assert.Contains("Denied", replaced.ToJsonString());
        Assert.Contains(reason, replaced.ToJsonString());

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        var text = Assert.IsType<TextContentBlock>(result.Content[0]).Text;
        Assert.Contains("Denied", text);
        Assert.Contains(reason, text);
        Assert.Equal("denied", result.Meta?["approvalbot"]?["decision"]?.GetValue<string>());

        var put = await rig.WaitForFinalPutAsync(created, "Denied");
        Assert.Null(put.Card!["actions"]);
        Assert.Contains(reason, put.Card.ToJsonString());
        rig.AssertNoSecretReachedTeams();
    }

    [Fact]
    public async Task Click_from_someone_who_is_not_an_approver_gets_an_error_card_and_changes_nothing()
    {
        await using var rig = await TeamsRig.StartAsync();
        using var cts = new CancellationTokenSource();
        var call = rig.CallCancelTaskAsync(cts.Token);
        var (id, created) = await rig.WaitForCardAsync();

        var (response, answer) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, TeamsTestIds.OtherAadId, name: "Mallory"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var error = Assert.IsType<JsonObject>(answer["value"]);
        Assert.Null(error["actions"]);
        Assert.Contains("Not an approver", error.ToJsonString());

        // A user of another tenant with the approver's object id is refused too.
        var (foreignResponse, foreign) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId, tenantId: "00000000-dead-beef-0000-000000000000"));
        Assert.Equal(HttpStatusCode.OK, foreignResponse.StatusCode);
        Assert.Contains("Not allowed", foreign["value"]!.ToJsonString());

        // A token signed for another bot (wrong audience) is refused before anything is read.
        var (unauthorized, _) = await rig.PostActivityAsync(
            TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId),
            rig.Auth.CreateToken("00000000-0000-0000-0000-0000000000aa", rig.Connector.ServiceUrl));
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);

        // The invoke answers only after the gateway's verdict, so a wrong decision would already show in its store.
        Assert.False(call.IsCompleted);
        Assert.Equal(ApprovalStatus.Pending, (await rig.Host.Get<GatewayStore>().GetApprovalAsync(id, CancellationToken.None))!.Status);
        var pending = await ConsoleApi.ListAsync(rig.Console, "pending");
        Assert.Contains(pending, a => a.GetProperty("id").GetString() == id.ToString() && a.GetProperty("status").GetString() == "Pending");
        await rig.Host.Get<AuditTrail>().FlushAsync(CancellationToken.None);
        var audit = await rig.Host.Get<GatewayStore>().ReadAuditAsync(id, 100, CancellationToken.None);
        Assert.DoesNotContain(audit, r => r.Actor is not null && r.Actor.StartsWith("teams:", StringComparison.Ordinal));
        Assert.DoesNotContain(rig.Connector.Calls, c => c.Kind == "update");

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var (denied, _) = await ConsoleApi.DecideAsync(rig.Console, id.ToString(), approve: false, "not now");
        Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        await rig.WaitForFinalPutAsync(created, "Denied");
        rig.AssertNoSecretReachedTeams();
    }

    [Fact]
    public async Task Decision_in_the_console_puts_the_final_card_in_teams()
    {
        await using var rig = await TeamsRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, created) = await rig.WaitForCardAsync();

        var (response, _) = await ConsoleApi.DecideAsync(rig.Console, id.ToString(), approve: false, "decided in the console");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await call.WaitAsync(TimeSpan.FromSeconds(30))).IsError);

        var put = await rig.WaitForFinalPutAsync(created, "Denied");
        Assert.Null(put.Card!["actions"]);
        Assert.Contains("console admin (console)", put.Card.ToJsonString());
        Assert.Contains("decided in the console", put.Card.ToJsonString());
        rig.AssertNoSecretReachedTeams();
    }

    [Fact]
    public async Task Approval_from_slack_puts_the_final_card_in_teams_and_both_cards_lose_their_buttons()
    {
        await using var rig = await TeamsRig.StartAsync(withSlack: true);
        var slack = rig.Slack!;
        var call = rig.CallCancelTaskAsync();
        var (id, created) = await rig.WaitForCardAsync();
        var slackCard = await slack.WaitForCallAsync("chat.postMessage", c => c.Succeeded && c.ApprovalId == id);
        Assert.True(slackCard.HasActionsBlock);

        var click = SlackTestRequests.BlockActions(SlackActionIds.Approve, id, SlackEndToEndTests.Approver, SlackEndToEndTests.ApproverName);
        using (var request = SlackTestRequests.Signed(
                   "/slack/interactions", SlackTestRequests.InteractionBody(click), "application/x-www-form-urlencoded", SlackEndToEndTests.SigningSecret, DateTimeOffset.UtcNow))
        {
            Assert.Equal(HttpStatusCode.OK, (await rig.Http.SendAsync(request)).StatusCode);
        }

        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(result.Content[0]).Text);

        var put = await rig.WaitForFinalPutAsync(created, "Approved");
        Assert.Null(put.Card!["actions"]);
        Assert.Contains($"{SlackEndToEndTests.ApproverName} (slack)", put.Card.ToJsonString());
        var slackUpdate = await slack.WaitForCallAsync("chat.update", c => c.ApprovalId == id);
        Assert.False(slackUpdate.HasActionsBlock);

        // A Teams click after the fact changes nothing and says who decided.
        var (late, answer) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "deny", id, PolicyApproverAadId));
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        Assert.Null(answer["value"]?["actions"]);
        Assert.Contains("Already approved", answer.ToJsonString());

        rig.AssertNoSecretReachedTeams();
        SlackEndToEndTests.AssertNoSecretIn(slack);
    }

    [Fact]
    public async Task Single_tenant_bot_approves_with_a_tenant_issued_token_and_posts_with_a_token_from_its_tenant()
    {
        await using var rig = await TeamsRig.StartAsync(); // AppType left at its default: SingleTenant
        var call = rig.CallCancelTaskAsync();
        var (id, created) = await rig.WaitForCardAsync();

        // What a single-tenant registration receives: a v2 token of its own tenant, signed with the tenant's key.
        var token = rig.Tenant.CreateToken(TeamsTestIds.AppId, rig.Connector.ServiceUrl, EntraTokenVersion.V2);
        var (response, answer) = await rig.PostActivityAsync(
            TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId, name: "Ada Approver"), token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(200, answer["statusCode"]?.GetValue<int>());
        Assert.Contains("Approved", answer["value"]!.ToJsonString());
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        var put = await rig.WaitForFinalPutAsync(created, "Approved");
        Assert.Contains("Ada Approver (teams)", put.Card!.ToJsonString());

        // Inbound: the token was verified with the tenant's keys; the Bot Framework's were never fetched.
        Assert.Equal(1, rig.Tenant.JwksRequests);
        Assert.Equal(0, rig.Auth.JwksRequests);

        // Outbound: every Connector call carried a token the fake issued at the tenant's own authority.
        Assert.NotEmpty(rig.Connector.TokenRequests);
        Assert.All(rig.Connector.TokenRequests, t =>
        {
            Assert.True(t.Granted);
            Assert.Equal(TeamsTestIds.TenantId, t.Tenant);
            Assert.Equal($"/{TeamsTestIds.TenantId}/oauth2/v2.0/token", t.Path);
        });
        Assert.All(rig.Connector.Calls, c => Assert.StartsWith("Bearer fake-access-token-", c.Authorization, StringComparison.Ordinal));
        rig.AssertNoSecretReachedTeams();
    }

    [Fact]
    public async Task Single_tenant_bot_denies_with_a_v1_token_and_refuses_another_tenants_token()
    {
        await using var rig = await TeamsRig.StartAsync();
        var call = rig.CallCancelTaskAsync();
        var (id, created) = await rig.WaitForCardAsync();

        // Another tenant's token (its own issuer, its own key) is refused before the body is read.
        var foreign = rig.Auth.Tenant("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee").CreateToken(TeamsTestIds.AppId, rig.Connector.ServiceUrl, EntraTokenVersion.V1);
        var (refused, _) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId), foreign);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.False(call.IsCompleted);

        const string reason = "wrong task";
        var v1 = rig.Tenant.CreateToken(TeamsTestIds.AppId, rig.Connector.ServiceUrl, EntraTokenVersion.V1);
        var (response, answer) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "deny", id, PolicyApproverAadId, comment: reason), v1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Denied", answer["value"]!.ToJsonString());
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsError);
        Assert.Contains(reason, Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        await rig.WaitForFinalPutAsync(created, "Denied");
        rig.AssertNoSecretReachedTeams();
    }

    [Fact]
    public async Task Multi_tenant_bot_approves_with_a_Bot_Framework_token_and_posts_with_a_botframework_com_token()
    {
        await using var rig = await TeamsRig.StartAsync(appType: "MultiTenant");
        var call = rig.CallCancelTaskAsync();
        var (id, created) = await rig.WaitForCardAsync();

        var (response, _) = await rig.PostActivityAsync(TeamsActivities.Invoke(rig.Connector.ServiceUrl, "approve", id, PolicyApproverAadId));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SampleResult, Assert.IsType<TextContentBlock>((await call.WaitAsync(TimeSpan.FromSeconds(30))).Content[0]).Text);
        await rig.WaitForFinalPutAsync(created, "Approved");
        Assert.NotEmpty(rig.Connector.TokenRequests);
        Assert.All(rig.Connector.TokenRequests, t =>
        {
            Assert.True(t.Granted);
            Assert.Equal("/botframework.com/oauth2/v2.0/token", t.Path);
        });
        Assert.Equal(0, rig.Tenant.JwksRequests);
    }

    [Fact]
    public async Task Start_up_without_a_tenant_id_stops_with_exit_2_and_one_line_naming_the_key()
    {
        var directory = RepoPaths.NewTempDirectory();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var arg in new[]
                 {
                     RepoPaths.ApprovalBotDll, $"--ApprovalBot:DataDirectory={directory}", "--ApprovalBot:Teams:Enabled=true",
                     $"--ApprovalBot:Teams:AppId={TeamsTestIds.AppId}", "--ApprovalBot:Teams:AppPassword=teams-secret-value",
                 })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single(output.Split('\n'), l => l.Contains("ApprovalBot:Teams:", StringComparison.Ordinal));
        Assert.Contains("ApprovalBot:Teams:TenantId is required when AppType is SingleTenant", line);
        Assert.Contains("App Tenant ID", line);
        Assert.DoesNotContain("teams-secret-value", output);
    }

    private static IEnumerable<JsonObject> Descendants(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                yield return obj;
                foreach (var (_, child) in obj)
                {
                    foreach (var d in Descendants(child))
                    {
                        yield return d;
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    foreach (var d in Descendants(child))
                    {
                        yield return d;
                    }
                }

                break;
        }
    }

    /// <summary>The Teams fakes, the real host pointed at them (optionally with the fake Slack too), an MCP client and HTTP clients.</summary>
    internal sealed class TeamsRig : ChannelRig
    {
        private TeamsRig(Started started, FakeBotFrameworkAuth auth, FakeTeamsConnector connector, FakeSlackApi? slack)
            : base(started)
        {
            Auth = auth;
            Connector = connector;
            Slack = slack;
        }

        public FakeBotFrameworkAuth Auth { get; }

        /// <summary>The bot's own Entra tenant on the fake (TeamsTestIds.TenantId).</summary>
        public FakeEntraTenant Tenant => Auth.Tenant(TeamsTestIds.TenantId);

        public FakeTeamsConnector Connector { get; }

        public FakeSlackApi? Slack { get; }

        /// <param name="appType">ApprovalBot:Teams:AppType; null leaves the default (SingleTenant).</param>
        /// <param name="policy">The policy file; null for the standard test policy.</param>
        public static async Task<TeamsRig> StartAsync(bool withSlack = false, string? appType = null, string? policy = null)
        {
            FakeBotFrameworkAuth? auth = null;
            FakeTeamsConnector? connector = null;
            FakeSlackApi? slack = null;
            var started = await StartAsync(async fakes =>
            {
                auth = await FakeBotFrameworkAuth.StartAsync();
                fakes.Add(auth);
                connector = await FakeTeamsConnector.StartAsync(TeamsTestIds.AppId, TeamsTestIds.AppPassword);
                fakes.Add(connector);
                var settings = new List<string>
                {
                    "--ApprovalBot:Teams:Enabled=true",
                    $"--ApprovalBot:Teams:AppId={TeamsTestIds.AppId}",
                    $"--ApprovalBot:Teams:AppPassword={TeamsTestIds.AppPassword}",
                    $"--ApprovalBot:Teams:TenantId={TeamsTestIds.TenantId}",
                    $"--ApprovalBot:Teams:ChannelId={TeamsTestIds.ChannelId}",
                    $"--ApprovalBot:Teams:ServiceUrl={connector.ServiceUrl}",
                    $"--ApprovalBot:Teams:OpenIdMetadataUrl={auth.MetadataUrl}",
                    $"--ApprovalBot:Teams:TenantOpenIdMetadataUrl={auth.TenantMetadataUrlTemplate}",
                    $"--ApprovalBot:Teams:TokenEndpoint={connector.TokenEndpoint}",
                };
                _ = auth.Tenant(TeamsTestIds.TenantId); // the bot's own Entra tenant exists on the fake
                if (appType is not null)
                {
                    settings.Add($"--ApprovalBot:Teams:AppType={appType}");
                }

                if (withSlack)
                {
                    slack = await FakeSlackApi.StartAsync();
                    slack.BotToken = SlackEndToEndTests.BotToken;
                    fakes.Add(slack);
                    settings.AddRange(SlackEndToEndTests.Settings(slack));
                }

                return settings;
            }, policy);
            return new TeamsRig(started, auth!, connector!, slack);
        }

        /// <summary>The pending approval (from the console API) and the Connector call that created its card.</summary>
        public async Task<(Guid Id, ConnectorCall Created)> WaitForCardAsync()
        {
            var id = await WaitForPendingIdAsync();
            var created = await Connector.WaitForCallAsync(c => c.Kind == "create" && c.Succeeded && c.Card?.ToJsonString().Contains(id.ToString(), StringComparison.Ordinal) == true);
            return (id, created);
        }

        /// <summary>
        /// The PUT that replaced the card created by <paramref name="created"/> with one mentioning <paramref name="word"/>
        /// (the fake's conversation id is <c>{channel};messageid={activityId}</c>).
        /// </summary>
        public async Task<ConnectorCall> WaitForFinalPutAsync(ConnectorCall created, string word)
        {
            var channel = created.Body?["channelData"]?["channel"]?["id"]?.GetValue<string>();
            var put = await Connector.WaitForCallAsync(c =>
                c.Kind == "update" && c.Succeeded
                && c.ConversationId == $"{channel};messageid={c.ActivityId}"
                && c.Card?.ToJsonString().Contains(word, StringComparison.Ordinal) == true);
            Assert.Equal(created.ServicePath, put.ServicePath);
            Assert.Contains(Uri.EscapeDataString(put.ConversationId!), put.RawTarget);
            return put;
        }

        public async Task<(HttpResponseMessage Response, JsonObject Body)> PostActivityAsync(JsonObject activity, string? token = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/messages")
            {
                Content = new StringContent(activity.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token ?? Auth.CreateToken(TeamsTestIds.AppId, Connector.ServiceUrl));
            var response = await Http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return (response, text.Length == 0 ? new JsonObject() : Assert.IsType<JsonObject>(JsonNode.Parse(text)));
        }

        public void AssertNoSecretReachedTeams()
        {
            Assert.NotEmpty(Connector.Calls);
            foreach (var call in Connector.Calls)
            {
                Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Body?.ToJsonString() ?? "", StringComparison.Ordinal);
                Assert.DoesNotContain(GatewayHost.SampleApiKey, call.RawTarget, StringComparison.Ordinal);
                Assert.DoesNotContain(GatewayHost.SampleApiKey, call.Authorization ?? "", StringComparison.Ordinal);
            }

            foreach (var token in Connector.TokenRequests)
            {
                Assert.DoesNotContain(token.Form.Values, v => v.Contains(GatewayHost.SampleApiKey, StringComparison.Ordinal));
            }
        }
    }
}
