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
    public const string AppId = "3f2b8c1e-6a4d-4e1f-9b7a-5c2d8e9f0a11";
    public const string AppPassword = "fake-app-password~not-a-real-secret";
    public const string TenantId = "9d7c1f2e-4b3a-4c5d-8e6f-0a1b2c3d4e5f";
    public const string ChannelId = "19:approvals0a1b2c3d4e5f@thread.tacv2";
    public const string ApproverAadId = "0f5c6e7d-1a2b-4c3d-9e8f-7a6b5c4d3e21";
    public const string OtherAadId = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716";

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
        CardReferences = app.Services.GetRequiredService<TeamsCardReferenceStore>();
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

    public TeamsCardReferenceStore CardReferences { get; }

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
            ["TokenEndpoint"] = connector.TokenEndpoint,
        };
        configure?.Invoke(settings);

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
        builder.Services.AddSingleton<TeamsCardReferenceStore>();
        builder.Services.AddSingleton<ICardReferences>(sp => sp.GetRequiredService<TeamsCardReferenceStore>());
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

/// <summary>Activities shaped like the ones Teams sends to /api/messages.</summary>
public static class TeamsActivities
{
    public const string BotId = "28:" + TeamsTestHost.AppId;

    /// <summary>An <c>Action.Execute</c> click: <c>invoke</c> named <c>adaptiveCard/action</c>.</summary>
    public static JsonObject Invoke(string serviceUrl, string verb, Guid approvalId, string? aadObjectId = TeamsTestHost.ApproverAadId,
        string? tenantId = TeamsTestHost.TenantId, string? comment = null, string name = "Ada Approver")
    {
        var data = new JsonObject { ["approvalId"] = approvalId.ToString() };
        if (comment is not null)
        {
            data["comment"] = comment;
        }

        var activity = Base("invoke", serviceUrl, aadObjectId, tenantId, name, $"{TeamsTestHost.ChannelId};messageid=1700000000001");
        activity["name"] = "adaptiveCard/action";
        activity["replyToId"] = "1700000000001";
        activity["value"] = new JsonObject
        {
            ["action"] = new JsonObject { ["type"] = "Action.Execute", ["verb"] = verb, ["data"] = data },
            ["trigger"] = "manual",
        };
        return activity;
    }

    /// <summary>An <c>Action.Submit</c> click from an old client: a message whose value is the data plus inputs.</summary>
    public static JsonObject Submit(string serviceUrl, string verb, Guid approvalId, string? comment = null,
        string? aadObjectId = TeamsTestHost.ApproverAadId, string? tenantId = TeamsTestHost.TenantId)
    {
        var activity = Base("message", serviceUrl, aadObjectId, tenantId, "Ada Approver", $"{TeamsTestHost.ChannelId};messageid=1700000000001");
        activity["replyToId"] = "1700000000001";
        var value = new JsonObject { ["action"] = verb, ["approvalId"] = approvalId.ToString() };
        if (comment is not null)
        {
            value["comment"] = comment;
        }

        activity["value"] = value;
        return activity;
    }

    /// <summary>A text message (in a channel: with the bot's <c>&lt;at&gt;</c> mention).</summary>
    public static JsonObject Message(string serviceUrl, string text, string? tenantId = TeamsTestHost.TenantId)
    {
        var activity = Base("message", serviceUrl, TeamsTestHost.ApproverAadId, tenantId, "Ada Approver", $"{TeamsTestHost.ChannelId};messageid=1700000000777");
        activity["text"] = text;
        activity["textFormat"] = "plain";
        activity["entities"] = new JsonArray(new JsonObject
        {
            ["type"] = "mention",
            ["text"] = "<at>ApprovalBot</at>",
            ["mentioned"] = new JsonObject { ["id"] = BotId, ["name"] = "ApprovalBot" },
        });
        return activity;
    }

    /// <summary>The bot was added to a team (conversationUpdate with the bot in membersAdded).</summary>
    public static JsonObject Installed(string serviceUrl, string teamId = "19:team0a1b2c3d@thread.tacv2", string? channelId = null, string? tenantId = TeamsTestHost.TenantId)
    {
        var activity = Base("conversationUpdate", serviceUrl, TeamsTestHost.ApproverAadId, tenantId, "Ada Approver", teamId);
        activity["membersAdded"] = new JsonArray(new JsonObject { ["id"] = BotId });
        var channelData = (JsonObject)activity["channelData"]!;
        channelData["eventType"] = "teamMemberAdded";
        channelData["team"] = new JsonObject { ["id"] = teamId, ["name"] = "SRE" };
        channelData["channel"] = new JsonObject { ["id"] = channelId ?? teamId };
        return activity;
    }

    private static JsonObject Base(string type, string serviceUrl, string? aadObjectId, string? tenantId, string name, string conversationId)
    {
        var from = new JsonObject { ["id"] = "29:1a2b3c4d5e6f-user", ["name"] = name };
        if (aadObjectId is not null)
        {
            from["aadObjectId"] = aadObjectId;
        }

        var conversation = new JsonObject { ["isGroup"] = true, ["conversationType"] = "channel", ["id"] = conversationId };
        var channelData = new JsonObject
        {
            ["channel"] = new JsonObject { ["id"] = TeamsTestHost.ChannelId },
            ["team"] = new JsonObject { ["id"] = "19:team0a1b2c3d@thread.tacv2" },
        };
        if (tenantId is not null)
        {
            conversation["tenantId"] = tenantId;
            channelData["tenant"] = new JsonObject { ["id"] = tenantId };
        }

        return new JsonObject
        {
            ["type"] = type,
            ["id"] = "f:" + Guid.NewGuid().ToString("N")[..16],
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("O"),
            ["localTimestamp"] = DateTimeOffset.UtcNow.ToString("O"),
            ["serviceUrl"] = serviceUrl,
            ["channelId"] = "msteams",
            ["from"] = from,
            ["conversation"] = conversation,
            ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "ApprovalBot" },
            ["channelData"] = channelData,
            ["locale"] = "en-US",
        };
    }
}
