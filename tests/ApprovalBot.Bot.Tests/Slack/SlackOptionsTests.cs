using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Slack;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Tests.Slack;

public sealed class SlackOptionsTests
{
    [Fact]
    public void Disabled_needs_nothing()
    {
        Assert.Empty(new SlackOptions().Validate());
        Assert.Equal("https://slack.com/api/", new SlackOptions().ApiBaseUrl);
    }

    [Fact]
    public void Enabled_without_values_names_every_missing_key()
    {
        var problems = new SlackOptions { Enabled = true }.Validate().ToList();
        Assert.Contains("ApprovalBot:Slack:SigningSecret is required when Slack is enabled (HTTP mode); set it, or set ApprovalBot:Slack:AppToken to use Socket Mode.", problems);
        Assert.Contains(problems, p => p.StartsWith("ApprovalBot:Slack:BotToken is required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ApprovalBot:Slack:Channel is required", StringComparison.Ordinal));
        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public void Socket_mode_needs_no_signing_secret_but_an_app_token()
    {
        var options = new SlackOptions { Enabled = true, BotToken = "xoxb-1", Channel = "C1", AppToken = "xapp-1-A-1-x" };
        Assert.Empty(options.Validate());
        Assert.Contains((options with { AppToken = "xoxb-wrong-kind" }).Validate(), p => p.StartsWith("ApprovalBot:Slack:AppToken must be", StringComparison.Ordinal));
    }

    [Fact]
    public void Problems_never_print_secret_values()
    {
        var options = new SlackOptions { Enabled = true, BotToken = "xapp-secret-value-1", AppToken = "not-an-app-token-secret", SigningSecret = "s3cr3t", ApiBaseUrl = "not a url" };
        var text = string.Join("\n", options.Validate());
        Assert.DoesNotContain("secret-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("not-an-app-token-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", text, StringComparison.Ordinal);
        Assert.Contains("ApprovalBot:Slack:ApiBaseUrl", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_configuration_stops_start_up_with_one_line_per_problem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ApprovalBot:Slack:Enabled"] = "true", ["ApprovalBot:Slack:BotToken"] = "xoxb-1" });
        builder.Services.AddSlackChannel(builder.Configuration.GetSection("ApprovalBot:Slack"));
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains(error.Failures, f => f.Contains("ApprovalBot:Slack:SigningSecret", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("ApprovalBot:Slack:Channel", StringComparison.Ordinal));
    }

    [Fact]
    public void Binds_from_configuration_and_registers_the_channel_once()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ApprovalBot:Slack:Enabled"] = "true",
            ["ApprovalBot:Slack:BotToken"] = "xoxb-1",
            ["ApprovalBot:Slack:SigningSecret"] = "s",
            ["ApprovalBot:Slack:Channel"] = "C1",
            ["ApprovalBot:Slack:ApiBaseUrl"] = "http://127.0.0.1:9/api",
        }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddSlackChannel(configuration.GetSection("ApprovalBot:Slack"));
        services.AddSlackChannel(configuration.GetSection("ApprovalBot:Slack"));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<SlackOptions>>().Value;
        Assert.Equal("C1", options.Channel);
        Assert.Equal("http://127.0.0.1:9/api", options.ApiBaseUrl);
        Assert.Single(services, d => d.ServiceType == typeof(IApprovalChannel));
        Assert.DoesNotContain(services, d => d.ImplementationType == typeof(SlackSocketModeService));
    }
}
