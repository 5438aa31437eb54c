using System.Security.Cryptography;
using ApprovalBot.Bot;
using ApprovalBot.Bot.WebConsole;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Configuration;
using ApprovalBot.Gateway;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Health;
using ApprovalBot.Messaging;
using ApprovalBot.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ApprovalBot.Hosting;

/// <summary>Builds the one Kestrel host; which parts run depends on the role.</summary>
public static class ServerHost
{
    /// <summary>Where the server listens when nothing says otherwise (--urls, URLS, ASPNETCORE_URLS, Urls, Kestrel:Endpoints, HTTP_PORTS).</summary>
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>Builds the application, or returns the configuration errors (exit code 2).</summary>
    public static (WebApplication? App, IReadOnlyList<string> Errors) Build(string[] args, bool stdio, TextWriter terminal, Action<WebApplicationBuilder>? customize = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (stdio)
        {
            // stdout belongs to the MCP protocol: every log line goes to stderr.
            builder.Logging.ClearProviders();
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        customize?.Invoke(builder);
        // Caps configuration cannot lift: MCP message bodies are never logged (see LogGuard).
        builder.Services.AddLogGuard();
        var (validated, errors) = ConfigurationValidator.Validate(builder.Configuration, Directory.GetCurrentDirectory());
        if (validated is null)
        {
            return (null, errors);
        }

        var options = validated.Options;
        if (!HasListeningAddress(builder.Configuration))
        {
            // In code, not in appsettings.json: a Urls there would outrank ASPNETCORE_URLS.
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = Math.Max(options.Gateway.MaxRequestBodyBytes, 4 * 1024 * 1024));

        if (options.RunsGateway)
        {
            builder.Services.AddGateway(new GatewaySettings(
                options.Gateway with { Upstreams = ExpandAppDirectory(options.Gateway.Upstreams) },
                options.Approvals,
                validated.DataDirectory,
                validated.PolicyPath,
                validated.Policy!,
                DescribeChannels(builder.Configuration, options),
                options.Audit,
                new Gateway.Webhooks.WebhookSettings(options.Webhooks.Where(w => w.Value.Enabled).ToDictionary(w => w.Key, w => w.Value, StringComparer.Ordinal)),
                options.Storage));
            var mcp = builder.Services.AddGatewayMcpServer();
            if (stdio)
            {
                mcp.WithGatewayStdioTransport();
            }
            else
            {
                mcp.WithGatewayHttpTransport(options.Gateway);
            }
        }

        // One id for this bot replica: its heartbeat queue, its heartbeat and card claims in a shared store.
        var botInstance = BotSettings.NewInstanceId(options.Bus.BotInstanceId);

        // One admin token for the bot's console API and the gateway's audit API.
        var servesAudit = options.RunsGateway && !stdio && options.Console.Enabled;

        // Where a bot on its own (with its console on) forwards the console's audit pages: the gateway's audit API.
        var auditGateway = options.Role == ServerRole.Bot && options.Console.Enabled && !string.IsNullOrEmpty(options.Console.GatewayUrl)
            ? options.Console.GatewayUrl
            : null;
        var adminToken = options.RunsBot || servesAudit ? ResolveAdminToken(options.Console, validated.DataDirectory, terminal) : null;
        if (options.RunsBot)
        {
            builder.Services.AddBot(new BotSettings(validated.DataDirectory, options.Console, adminToken!, options.Storage, botInstance));
            if (auditGateway is not null)
            {
                builder.Services.AddAuditForwarding(auditGateway);
            }

            builder.Services.AddSlackChannel(builder.Configuration.GetSection(ApprovalBot.Bot.Slack.SlackOptions.SectionPath));
            builder.Services.AddTeamsChannel(builder.Configuration.GetSection(ApprovalBot.Bot.Teams.TeamsOptions.SectionPath));
        }

        builder.Services.AddApprovalBus(options, botInstance);
        builder.Services.AddApprovalBotTelemetry(options.Telemetry);

        var app = builder.Build();
        if (options.RunsGateway)
        {
            // Said once the server listens: which file is in force is the first thing to know when an edit "does nothing".
            app.Lifetime.ApplicationStarted.Register(() =>
            {
                var policies = app.Services.GetRequiredService<Gateway.Policies.PolicyStore>();
                StartupLog.PolicyWatched(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ApprovalBot.Policy"), policies.FilePath, policies.Current.Summary);
            });
        }

        app.MapHealth();
        app.MapApprovalBotTelemetry(options.Telemetry);
        if (options.RunsGateway && !stdio)
        {
            app.MapGatewayFront();
            if (servesAudit)
            {
                app.MapAuditApi(adminToken!);
            }
        }

        if (options.RunsBot)
        {
            if (options.Console.Enabled)
            {
                app.MapApprovalConsole(adminToken!);
                if (auditGateway is not null)
                {
                    app.MapAuditForwarding();
                }
            }

            app.MapSlack();
            app.MapTeams();
        }

        return (app, []);
    }

    /// <summary>True when any source names where to listen (the keys Kestrel reads).</summary>
    internal static bool HasListeningAddress(IConfiguration configuration) =>
        new[] { "urls", "http_ports", "https_ports" }.Any(k => !string.IsNullOrWhiteSpace(configuration[k]))
        || configuration.GetSection("Kestrel:Endpoints").Exists();

    /// <summary><c>{AppDir}</c> in an upstream's command or arguments stands for this program's folder (the sample ships there).</summary>
    private static Dictionary<string, Gateway.Configuration.UpstreamOptions> ExpandAppDirectory(Dictionary<string, Gateway.Configuration.UpstreamOptions> upstreams)
    {
        var appDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        return upstreams.ToDictionary(
            p => p.Key,
            p => p.Value with
            {
                Command = p.Value.Command?.Replace("{AppDir}", appDir, StringComparison.Ordinal),
                Args = p.Value.Args.Select(a => a.Replace("{AppDir}", appDir, StringComparison.Ordinal)).ToArray(),
            },
            StringComparer.Ordinal);
    }

    private static string DescribeChannels(IConfiguration configuration, ApprovalBotOptions options)
    {
        var channels = new List<string>();
        if (configuration.GetValue<bool>("ApprovalBot:Slack:Enabled"))
        {
            channels.Add("Slack");
        }

        if (configuration.GetValue<bool>("ApprovalBot:Teams:Enabled"))
        {
            channels.Add("Microsoft Teams");
        }

        if (options.Console.Enabled)
        {
            channels.Add("the approval console");
        }

        return channels.Count == 0 ? "the approval channels" : string.Join(" and ", channels);
    }

    /// <summary>Configured, else kept in the data directory, else generated once and shown on the terminal.</summary>
    private static string ResolveAdminToken(ConsoleOptions console, string dataDirectory, TextWriter terminal)
    {
        if (!string.IsNullOrEmpty(console.AdminToken))
        {
            return console.AdminToken;
        }

        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, "console.token");
        if (File.Exists(file))
        {
            return File.ReadAllText(file).Trim();
        }

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        File.WriteAllText(file, token);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        terminal.WriteLine($"approvalbot: generated the console admin token (kept in {file}): {token}");
        return token;
    }
}

internal static partial class StartupLog
{
    [LoggerMessage(EventName = "PolicyWatched", Level = LogLevel.Information, Message = "Policy {Path} ({Summary}); edits to this file apply at once")]
    public static partial void PolicyWatched(ILogger logger, string path, string summary);
}
