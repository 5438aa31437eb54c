using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.WebConsole;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Status;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>
/// The bot's Slack side in-process: a Kestrel WebApplication on 127.0.0.1:0 with AddSlackChannel +
/// MapSlack (and the web console's API, with <see cref="ConsoleToken"/>), in-memory fakes for the rest
/// of the bot, and Slack's Web API at a <see cref="FakeSlackApi"/>.
/// </summary>
public sealed class SlackBotHost : IAsyncDisposable
{
    public const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    public const string BotToken = FakeSlackApi.DefaultBotToken;
    public const string AppToken = FakeSlackApi.DefaultAppToken;
    public const string ChannelId = "C0APPROVALS";
    public const string ConsoleToken = "console-admin-token-for-tests";

    private readonly WebApplication _app;

    private SlackBotHost(WebApplication app, FakeSlackApi slack)
    {
        _app = app;
        Slack = slack;
        Client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
    }

    public FakeSlackApi Slack { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public InMemoryApprovalReadModel ReadModel => Services.GetRequiredService<InMemoryApprovalReadModel>();

    public FakeApprovalDecisions Decisions => Services.GetRequiredService<FakeApprovalDecisions>();

    public InMemoryCardReferences Cards => Services.GetRequiredService<InMemoryCardReferences>();

    public FixedStatusReport Status => Services.GetRequiredService<FixedStatusReport>();

    public ListLoggerProvider Logs => Services.GetRequiredService<ListLoggerProvider>();

    public IApprovalChannel Channel => Services.GetServices<IApprovalChannel>().Single(c => c.Name == "slack");

    public SlackWorkQueue WorkQueue => Services.GetRequiredService<SlackWorkQueue>();

    public TimeProvider Time => Services.GetRequiredService<TimeProvider>();

    public static async Task<SlackBotHost> StartAsync(
        FakeSlackApi slack,
        bool enabled = true,
        bool socketMode = false,
        TimeProvider? timeProvider = null,
        IDictionary<string, string?>? extraConfiguration = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var settings = new Dictionary<string, string?>
        {
            ["ApprovalBot:Slack:Enabled"] = enabled ? "true" : "false",
            ["ApprovalBot:Slack:BotToken"] = BotToken,
            ["ApprovalBot:Slack:SigningSecret"] = SigningSecret,
            ["ApprovalBot:Slack:Channel"] = ChannelId,
            ["ApprovalBot:Slack:ApiBaseUrl"] = slack.ApiBaseUrl.ToString(),
        };
        if (socketMode)
        {
            settings["ApprovalBot:Slack:AppToken"] = AppToken;
        }

        foreach (var (key, value) in extraConfiguration ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(settings);

        var logs = new ListLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton(logs);

        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }

        builder.Services.AddSingleton<InMemoryApprovalReadModel>();
        builder.Services.AddSingleton<IApprovalReadModel>(sp => sp.GetRequiredService<InMemoryApprovalReadModel>());
        builder.Services.AddSingleton<FakeApprovalDecisions>();
        // Scoped on purpose: the Slack side must not capture these in its singletons.
        builder.Services.AddScoped<IApprovalDecisions>(sp => sp.GetRequiredService<FakeApprovalDecisions>());
        builder.Services.AddSingleton<InMemoryCardReferences>();
        builder.Services.AddScoped<ICardReferences>(sp => sp.GetRequiredService<InMemoryCardReferences>());
        builder.Services.AddSingleton<FixedStatusReport>();
        builder.Services.AddScoped<IStatusReport>(sp => sp.GetRequiredService<FixedStatusReport>());

        builder.Services.AddSlackChannel(builder.Configuration.GetSection("ApprovalBot:Slack"));

        var app = builder.Build();
        app.MapSlack();
        app.MapApprovalConsole(ConsoleToken);
        await app.StartAsync().ConfigureAwait(false);
        return new SlackBotHost(app, slack);
    }

    /// <summary>Posts a body signed with the host's signing secret (as Slack would).</summary>
    public Task<HttpResponseMessage> PostSignedAsync(string path, byte[] body, string contentType = "application/x-www-form-urlencoded", int? retryNum = null) =>
        Client.SendAsync(SlackTestRequests.Signed(path, body, contentType, SigningSecret, DateTimeOffset.UtcNow, retryNum));

    public Task<HttpResponseMessage> PostInteractionAsync(System.Text.Json.Nodes.JsonNode payload, int? retryNum = null) =>
        PostSignedAsync("/slack/interactions", SlackTestRequests.InteractionBody(payload), retryNum: retryNum);

    /// <summary>Waits (bounded) until the background work queue is idle.</summary>
    public Task WaitForIdleAsync() => Eventually.TrueAsync(() => WorkQueue.Pending == 0, "the Slack work queue to drain");

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }
}

/// <summary>A fresh fake Slack and bot host per test.</summary>
public abstract class SlackHostTestBase : IAsyncLifetime
{
    protected FakeSlackApi Slack { get; private set; } = null!;

    protected SlackBotHost Bot { get; private set; } = null!;

    /// <summary>The clock of the fake and the host; null for the system clock.</summary>
    protected virtual TimeProvider? Time => null;

    protected virtual bool SocketMode => false;

    public async Task InitializeAsync()
    {
        Slack = await FakeSlackApi.StartAsync(Time);
        Slack.BotToken = SlackBotHost.BotToken;
        Slack.AppToken = SlackBotHost.AppToken;
        BeforeStart();
        Bot = await SlackBotHost.StartAsync(Slack, socketMode: SocketMode, timeProvider: Time);
        Arrange();
    }

    /// <summary>Per-class set-up of the fake before the bot starts (what Slack answers its first calls).</summary>
    protected virtual void BeforeStart()
    {
    }

    /// <summary>Per-class set-up once the host runs.</summary>
    protected virtual void Arrange()
    {
    }

    public async Task DisposeAsync()
    {
        await Bot.DisposeAsync();
        await Slack.DisposeAsync();
        // Every payload this test made the bot send was checked against Block Kit's limits by the fake.
        Assert.Empty(Slack.InvalidPayloads.Where(p => !ExpectsInvalidPayloads).Select(p => $"{p.Method}: {string.Join("; ", p.Problems)}"));
    }

    /// <summary>True for a test that sends a payload Slack refuses on purpose.</summary>
    protected bool ExpectsInvalidPayloads { get; set; }
}
