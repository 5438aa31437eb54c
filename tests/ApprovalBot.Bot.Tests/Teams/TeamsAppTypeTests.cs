namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>Teams:AppType decides where the bot's own Connector token comes from; each case posts a real card through the fakes.</summary>
public sealed class TeamsAppTypeTests : IAsyncLifetime
{
    private const string ManagedIdentityClientId = "6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

    private FakeBotFrameworkAuth _auth = null!;
    private FakeTeamsConnector _connector = null!;

    public async Task InitializeAsync()
    {
        _auth = await FakeBotFrameworkAuth.StartAsync();
        _connector = await FakeTeamsConnector.StartAsync(TeamsTestHost.AppId, TeamsTestHost.AppPassword);
    }

    public async Task DisposeAsync()
    {
        await _connector.DisposeAsync();
        await _auth.DisposeAsync();
    }

    private async Task<ConnectorCall> PostCardAsync(TeamsTestHost host)
    {
        await host.Channel.ShowAsync(host.AddPending(), CancellationToken.None);
        var create = Assert.Single(_connector.Calls, c => c.Kind == "create");
        Assert.True(create.Succeeded, $"the Connector answered {create.StatusCode}");
        Assert.StartsWith("Bearer fake-access-token-", create.Authorization, StringComparison.Ordinal);
        return create;
    }

    [Fact]
    public async Task SingleTenant_is_the_default_and_asks_the_bot_tenants_token_endpoint()
    {
        await using var host = await TeamsTestHost.StartAsync(_auth, _connector, configure: s => s.Remove("AppType"));

        await PostCardAsync(host);

        var request = Assert.Single(_connector.TokenRequests);
        Assert.True(request.Granted);
        Assert.Equal(TeamsTestHost.TenantId, request.Tenant);
        Assert.Equal($"/{TeamsTestHost.TenantId}/oauth2/v2.0/token", request.Path);
        Assert.Equal("client_credentials", request.Form["grant_type"]);
        Assert.Equal(TeamsTestHost.AppId, request.Form["client_id"]);
        var identity = Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsConnectorIdentity");
        Assert.Contains("SingleTenant", identity.Message, StringComparison.Ordinal);
        Assert.Contains($"/{TeamsTestHost.TenantId}/oauth2/v2.0/token", identity.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MultiTenant_asks_the_botframework_com_tenant()
    {
        await using var host = await TeamsTestHost.StartAsync(_auth, _connector, configure: s => s["AppType"] = "MultiTenant");

        await PostCardAsync(host);

        var request = Assert.Single(_connector.TokenRequests);
        Assert.True(request.Granted);
        Assert.Equal("botframework.com", request.Tenant);
        Assert.Equal("/botframework.com/oauth2/v2.0/token", request.Path);
        Assert.Equal("https://api.botframework.com/.default", request.Form["scope"]);
    }

    [Fact]
    public async Task UserAssignedMSI_uses_the_managed_identity_and_no_secret()
    {
        _connector.ManagedIdentityClientId = ManagedIdentityClientId;
        await using var host = await TeamsTestHost.StartAsync(_auth, _connector, configure: s =>
        {
            s["AppType"] = "UserAssignedMSI";
            s.Remove("AppPassword");
            s["ManagedIdentityClientId"] = ManagedIdentityClientId;
            s["ManagedIdentityEndpoint"] = _connector.ManagedIdentityEndpoint;
        });

        await PostCardAsync(host);

        var request = Assert.Single(_connector.TokenRequests, r => r.Granted);
        Assert.True(request.IsManagedIdentity);
        Assert.Equal(ManagedIdentityClientId, request.Form["client_id"]);
        Assert.Equal("https://api.botframework.com", request.Form["resource"]);
        Assert.DoesNotContain(_connector.TokenRequests, r => !r.IsManagedIdentity); // no client-credentials request at all
        var identity = Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsConnectorIdentity");
        Assert.Contains("UserAssignedMSI", identity.Message, StringComparison.Ordinal);
        Assert.Contains(ManagedIdentityClientId, identity.Message, StringComparison.Ordinal);

        // MSAL caches the managed identity's token too.
        await host.Channel.ShowAsync(host.AddPending(), CancellationToken.None);
        Assert.Equal(2, _connector.Calls.Count(c => c.Kind == "create" && c.Succeeded));
        Assert.Single(_connector.TokenRequests, r => r.Granted);
    }

    [Fact]
    public async Task UserAssignedMSI_without_a_client_id_signs_in_as_the_app_id()
    {
        await using var host = await TeamsTestHost.StartAsync(_auth, _connector, configure: s =>
        {
            s["AppType"] = "UserAssignedMSI";
            s.Remove("AppPassword");
            s["ManagedIdentityEndpoint"] = _connector.ManagedIdentityEndpoint;
        });

        await PostCardAsync(host);

        var request = Assert.Single(_connector.TokenRequests, r => r.Granted);
        Assert.True(request.IsManagedIdentity);
        Assert.Equal(TeamsTestHost.AppId, request.Form["client_id"]);
    }

    [Fact]
    public async Task UserAssignedMSI_for_an_identity_the_host_does_not_have_posts_nothing_and_says_why()
    {
        await using var host = await TeamsTestHost.StartAsync(_auth, _connector, configure: s =>
        {
            s["AppType"] = "UserAssignedMSI";
            s.Remove("AppPassword");
            s["ManagedIdentityClientId"] = "00000000-0000-4000-8000-00000000dead";
            s["ManagedIdentityEndpoint"] = _connector.ManagedIdentityEndpoint;
        });

        await host.Channel.ShowAsync(host.AddPending(), CancellationToken.None);

        Assert.Empty(_connector.Calls);
        Assert.NotEmpty(_connector.TokenRequests);
        Assert.All(_connector.TokenRequests, r => Assert.False(r.Granted));
        var failure = Assert.Single(host.Logs.Entries, e => e.EventName == "TeamsConnectorTokenFailed");
        Assert.Contains("UserAssignedMSI", failure.Message, StringComparison.Ordinal);
    }
}
