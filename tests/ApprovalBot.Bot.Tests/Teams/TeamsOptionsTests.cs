using ApprovalBot.Bot.Teams;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Tests.Teams;

public sealed class TeamsOptionsTests
{
    private static TeamsOptions Valid => new()
    {
        Enabled = true,
        AppId = TeamsTestHost.AppId,
        AppPassword = TeamsTestHost.AppPassword,
        TenantId = TeamsTestHost.TenantId,
    };

    [Fact]
    public void Disabled_options_have_no_problems() => Assert.Empty(new TeamsOptions().Validate());

    [Fact]
    public void Defaults_point_at_the_Bot_Framework()
    {
        var options = Valid;
        Assert.Empty(options.Validate());
        Assert.Equal("https://smba.trafficmanager.net/teams/", options.ServiceUrl);
        Assert.Equal("https://login.botframework.com/v1/.well-known/openidconfiguration", options.OpenIdMetadataUrl);
        Assert.Equal($"https://login.microsoftonline.com/{TeamsTestHost.TenantId}/oauth2/v2.0/token", options.ResolvedTokenEndpoint);
        Assert.Equal($"https://login.microsoftonline.com/{TeamsTestHost.TenantId}/v2.0/.well-known/openid-configuration", options.ResolvedTenantOpenIdMetadataUrl);
        Assert.Equal(TeamsAppType.SingleTenant, options.ParsedAppType);
    }

    [Fact]
    public void MultiTenant_takes_its_token_from_the_botframework_com_tenant_but_keeps_its_own_tenant()
    {
        var options = Valid with { AppType = "MultiTenant" };

        Assert.Empty(options.Validate());
        Assert.Equal("https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token", options.ResolvedTokenEndpoint);
        Assert.Equal($"https://login.microsoftonline.com/{TeamsTestHost.TenantId}/v2.0/.well-known/openid-configuration", options.ResolvedTenantOpenIdMetadataUrl);
    }

    [Theory]
    [InlineData("SingleTenant", "AppType is SingleTenant (the default)")]
    [InlineData("MultiTenant", "AppType is MultiTenant")]
    [InlineData("UserAssignedMSI", "AppType is UserAssignedMSI")]
    public void A_missing_tenant_id_is_one_line_that_names_the_key_and_says_why(string appType, string expected)
    {
        var options = (appType == "UserAssignedMSI" ? Valid with { AppPassword = null } : Valid) with { AppType = appType, TenantId = null };

        var problem = Assert.Single(options.Validate());

        Assert.StartsWith("ApprovalBot:Teams:TenantId is required when ", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void A_tenant_domain_name_is_refused()
    {
        var problem = Assert.Single((Valid with { TenantId = "contoso.onmicrosoft.com" }).Validate());
        Assert.Contains("ApprovalBot:Teams:TenantId must be the tenant's id", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("singletenant", TeamsAppType.SingleTenant)]
    [InlineData("MultiTenant", TeamsAppType.MultiTenant)]
    [InlineData("UserAssignedMsi", TeamsAppType.UserAssignedMSI)]
    public void App_type_is_read_case_insensitively(string text, TeamsAppType expected) =>
        Assert.Equal(expected, (Valid with { AppType = text }).ParsedAppType);

    [Theory]
    [InlineData("SystemAssignedMSI")]
    [InlineData("1")]
    [InlineData("")]
    public void An_unknown_app_type_is_one_line(string text)
    {
        var problem = Assert.Single((Valid with { AppType = text }).Validate());
        Assert.StartsWith("ApprovalBot:Teams:AppType must be SingleTenant, MultiTenant or UserAssignedMSI", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void UserAssignedMSI_needs_no_secret_refuses_one_and_signs_in_as_the_app_id_by_default()
    {
        var msi = Valid with { AppType = "UserAssignedMSI", AppPassword = null };

        Assert.Empty(msi.Validate());
        Assert.Equal(TeamsTestHost.AppId, msi.ResolvedManagedIdentityClientId);
        Assert.Equal("6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", (msi with { ManagedIdentityClientId = "6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" }).ResolvedManagedIdentityClientId);
        Assert.Contains("ApprovalBot:Teams:AppPassword must be empty", Assert.Single((msi with { AppPassword = "left-over" }).Validate()), StringComparison.Ordinal);
        Assert.Contains("ApprovalBot:Teams:ManagedIdentityEndpoint is for tests only", Assert.Single((msi with { ManagedIdentityEndpoint = "http://169.254.169.254/" }).Validate()), StringComparison.Ordinal);
        Assert.Empty((msi with { ManagedIdentityEndpoint = "http://127.0.0.1:5005/" }).Validate());
    }

    [Fact]
    public void Managed_identity_keys_are_refused_for_secret_based_app_types()
    {
        var problem = Assert.Single((Valid with { ManagedIdentityClientId = "6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" }).Validate());
        Assert.Contains("used only when AppType is UserAssignedMSI", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Each_problem_names_its_key_and_never_the_secret()
    {
        var options = new TeamsOptions
        {
            Enabled = true,
            AppPassword = "",
            ServiceUrl = "smba.trafficmanager.net/teams",
            OpenIdMetadataUrl = "http://login.botframework.com/v1/.well-known/openidconfiguration",
            TokenEndpoint = "https://login.microsoftonline.com/{TenantId}/token",
            TenantOpenIdMetadataUrl = "http://login.microsoftonline.com/{TenantId}/v2.0/.well-known/openid-configuration",
            ChannelId = "General",
        };

        var problems = options.Validate().ToList();

        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:AppId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:AppPassword", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:TenantId", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:ServiceUrl must be an absolute URL", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:OpenIdMetadataUrl must use https", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:TokenEndpoint must end with", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:TenantOpenIdMetadataUrl must use https", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("ApprovalBot:Teams:ChannelId", StringComparison.Ordinal));
    }

    [Fact]
    public void Plain_http_is_accepted_for_loopback_only()
    {
        Assert.Empty((Valid with { ServiceUrl = "http://127.0.0.1:5000/teams/", TokenEndpoint = "http://localhost:5001/{TenantId}/oauth2/v2.0/token" }).Validate());
        Assert.Single((Valid with { ServiceUrl = "http://10.0.0.5/teams/" }).Validate());
    }

    [Fact]
    public void The_secret_is_not_printed()
    {
        var text = (Valid with { AppPassword = "s3cr3t-value" }).ToString();

        Assert.DoesNotContain("s3cr3t-value", text, StringComparison.Ordinal);
        Assert.Contains("AppPassword = (set)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Msal_authority_is_derived_from_the_token_endpoint()
    {
        Assert.Equal("https://login.microsoftonline.com/contoso.onmicrosoft.com",
            MsalConnectorTokenSource.MsalAuthority("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"));
        Assert.Equal("https://127.0.0.1:5123/tid", MsalConnectorTokenSource.MsalAuthority("http://127.0.0.1:5123/tid/oauth2/v2.0/token"));
    }

    [Fact]
    public void Invalid_enabled_options_stop_start_up_with_every_problem()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ApprovalBot:Teams:Enabled"] = "true", ["ApprovalBot:Teams:AppPassword"] = "hunter2" })
            .Build();
        var services = new ServiceCollection().AddLogging();
        services.AddTeamsChannel(configuration.GetSection("ApprovalBot:Teams"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TeamsOptions>>().Value);
        Assert.Contains(error.Failures, f => f.Contains("AppId", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("TenantId", StringComparison.Ordinal));
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_Teams_registers_no_channel()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ApprovalBot:Teams:Enabled"] = "false" }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddTeamsChannel(configuration.GetSection("ApprovalBot:Teams"));
        using var provider = services.BuildServiceProvider();

        Assert.Empty(provider.GetServices<ApprovalBot.Bot.Channels.IApprovalChannel>());
        Assert.False(provider.GetRequiredService<IOptions<TeamsOptions>>().Value.Enabled);
    }
}
