using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Approvals;
using ApprovalBot.Bot.Channels;
using ApprovalBot.Bot.Status;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;
using ApprovalBot.Core.Redaction;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>
/// The bot's Teams surface in-process: a WebApplication on 127.0.0.1:0 with <c>AddTeamsChannel</c>
/// and <c>MapTeams</c>, wired to the fake Bot Framework auth and Connector, and in-memory fakes of
/// the read model, decisions, status report and card store.
/// </summary>
public sealed class TeamsTestHost : IAsyncDisposable
{
    public const string AppId = TeamsTestIds.AppId;
    public const string AppPassword = TeamsTestIds.AppPassword;
    public const string TenantId = TeamsTestIds.TenantId;
    public const string ChannelId = TeamsTestIds.ChannelId;
    public const string ApproverAadId = TeamsTestIds.ApproverAadId;
    public const string OtherAadId = TeamsTestIds.OtherAadId;

    private readonly WebApplication _app;

    private TeamsTestHost(WebApplication app, Uri baseAddress, FakeBotFrameworkAuth auth, FakeTeamsConnector connector)
    {
        _app = app;
        BaseAddress = baseAddress;
        Auth = auth;
        Connector = connector;
        Client = new HttpClient { BaseAddress = baseAddress };
        ReadModel = app.Services.GetRequiredService<TeamsReadModel>();
        Decisions = app.Services.GetRequiredService<RecordingApprovalDecisions>();
        CardReferences = app.Services.GetRequiredService<InMemoryCardReferences>();
        Status = app.Services.GetRequiredService<FixedStatusReport>();
        Logs = app.Services.GetRequiredService<TeamsLogSink>();
        Time = app.Services.GetRequiredService<TimeProvider>();
    }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public FakeBotFrameworkAuth Auth { get; }

    public FakeTeamsConnector Connector { get; }

    public TeamsReadModel ReadModel { get; }

    public RecordingApprovalDecisions Decisions { get; }

    public InMemoryCardReferences CardReferences { get; }

    public FixedStatusReport Status { get; }

    public TeamsLogSink Logs { get; }

    public TimeProvider Time { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The registered Teams <see cref="IApprovalChannel"/>.</summary>
    public IApprovalChannel Channel => _app.Services.GetServices<IApprovalChannel>().Single(c => c.Name == "teams");

    /// <param name="configure">Changes to the <c>ApprovalBot:Teams</c> keys (without the prefix).</param>
    public static async Task<TeamsTestHost> StartAsync(
        FakeBotFrameworkAuth auth,
        FakeTeamsConnector connector,
        TimeProvider? time = null,
        Action<IDictionary<string, string?>>? configure = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Enabled"] = "true",
            ["AppId"] = AppId,
            ["AppPassword"] = AppPassword,
            ["TenantId"] = TenantId,
            ["ChannelId"] = ChannelId,
            ["ServiceUrl"] = connector.ServiceUrl,
            ["OpenIdMetadataUrl"] = auth.MetadataUrl.ToString(),
            ["TenantOpenIdMetadataUrl"] = auth.TenantMetadataUrlTemplate,
            ["TokenEndpoint"] = connector.TokenEndpoint,
        };
        configure?.Invoke(settings);
        _ = auth.Tenant(TenantId); // the bot's own Entra tenant exists on the fake

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Configuration.AddInMemoryCollection(settings.Select(p => new KeyValuePair<string, string?>("ApprovalBot:Teams:" + p.Key, p.Value)));
        var logs = new TeamsLogSink();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        var clock = time ?? TimeProvider.System;
        builder.Services.AddSingleton(logs);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton<TeamsReadModel>();
        builder.Services.AddSingleton<IApprovalReadModel>(sp => sp.GetRequiredService<TeamsReadModel>());
        builder.Services.AddSingleton<RecordingApprovalDecisions>();
        builder.Services.AddSingleton<IApprovalDecisions>(sp => sp.GetRequiredService<RecordingApprovalDecisions>());
        builder.Services.AddSingleton<InMemoryCardReferences>();
        builder.Services.AddSingleton<ICardReferences>(sp => sp.GetRequiredService<InMemoryCardReferences>());
        builder.Services.AddSingleton<FixedStatusReport>();
        builder.Services.AddSingleton<IStatusReport>(sp => sp.GetRequiredService<FixedStatusReport>());
        builder.Services.AddTeamsChannel(builder.Configuration.GetSection("ApprovalBot:Teams"));

        var app = builder.Build();
        app.MapTeams();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TeamsTestHost(app, new Uri(address.TrimEnd('/') + "/"), auth, connector);
    }

    /// <summary>A token for this bot, signed by the default key, for <paramref name="serviceUrl"/> (default: the fake Connector's).</summary>
    public string Token(string? serviceUrl = null) => Auth.CreateToken(AppId, serviceUrl ?? Connector.ServiceUrl, Time.GetUtcNow());

    /// <summary>The bot's own Entra tenant on the fake.</summary>
    public FakeEntraTenant Tenant => Auth.Tenant(TenantId);

    /// <summary>A token as a single-tenant bot receives it: issued by its Entra tenant (v1 or v2), signed by the tenant's default key.</summary>
    public string EntraToken(EntraTokenVersion version = EntraTokenVersion.V2, string? serviceUrl = null) =>
        Tenant.CreateToken(AppId, serviceUrl ?? Connector.ServiceUrl, version, Time.GetUtcNow());

    /// <summary>POSTs an activity to /api/messages with <c>Authorization: Bearer {token}</c> (none when null).</summary>
    public async Task<HttpResponseMessage> PostActivityAsync(JsonObject activity, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/messages")
        {
            Content = new StringContent(activity.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Client.SendAsync(request);
    }

    /// <summary>A pending approval, stored in the read model.</summary>
    public ApprovalView AddPending(IReadOnlyList<string>? approvers = null, string? arguments = null, int approvalsRequired = 1)
    {
        var view = TeamsTestApprovals.Pending(Time.GetUtcNow(), approvers, arguments, approvalsRequired);
        ReadModel.Put(view);
        return view;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Approval views for tests.</summary>
public static class TeamsTestApprovals
{
    public const string RawSecret = "sk-live-51HkT3Zs3cr3tV4lu3";

    /// <summary>Arguments as the gateway would publish them: credential-like values already redacted.</summary>
    public static string RedactedArguments() =>
        new SecretRedactor().RedactToJson(JsonDocument.Parse($$$"""{"task_id":"T-1042","api_key":"{{{RawSecret}}}","options":{"force":true,"note":"[click](https://evil.example)"}}""").RootElement);

    public static ApprovalView Pending(DateTimeOffset now, IReadOnlyList<string>? approvers = null, string? arguments = null, int approvalsRequired = 1)
    {
        var request = new ApprovalRequested(
            Guid.NewGuid(),
            "agentwork_cancel_task",
            "agentwork",
            "ci-bot",
            arguments ?? RedactedArguments(),
            "3b1f0c9a8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3",
            "Cancels a running task; cannot be undone",
            approvers ?? [$"teams:{TeamsTestHost.ApproverAadId}", "slack:U024BE7LH"],
            approvalsRequired,
            now.AddMinutes(-2),
            now.AddMinutes(13),
            new Uri("rabbitmq://localhost/gateway-1"),
            "gateway-1");
        return new ApprovalView(request, ApprovalStatus.Pending, null, null, null);
    }
}
