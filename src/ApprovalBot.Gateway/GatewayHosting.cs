using ApprovalBot.Storage;
using System.Security.Cryptography;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;
using ApprovalBot.Core.Redaction;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Bus;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Enforcement;
using ApprovalBot.Gateway.Front;
using ApprovalBot.Gateway.Grants;
using ApprovalBot.Gateway.Identity;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Tasks;
using ApprovalBot.Gateway.Telemetry;
using ApprovalBot.Gateway.Upstreams;
using ApprovalBot.Gateway.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway;

/// <summary>What the executable hands the gateway after validating configuration.</summary>
public sealed record GatewaySettings(
    GatewayOptions Gateway,
    ApprovalOptions Approvals,
    string DataDirectory,
    string PolicyPath,
    Policy Policy,
    string ChannelsDescription,
    AuditOptions? Audit = null,
    WebhookSettings? Webhooks = null,
    StorageOptions? Storage = null);

public static class GatewayHosting
{
    /// <summary>Registers the gateway's services (not the MCP transport: see <see cref="AddGatewayMcpServer"/>).</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, GatewaySettings settings)
    {
        Directory.CreateDirectory(settings.DataDirectory);
        // First hosted service: the schema exists before any other service touches the database.
        services.AddHostedService<GatewayStartup>();
        services.AddSingleton(settings.Gateway);
        services.AddSingleton(settings.Approvals);
        services.AddSingleton(new GatewayInstance(ResolveInstanceId(settings)));
        services.AddSingleton(new ApprovalChannelsDescription(settings.ChannelsDescription));
        var store = new GatewayStore(Database.Create(settings.Storage ?? new StorageOptions(), Path.Combine(settings.DataDirectory, "gateway.db"), "gateway"));
        services.AddSingleton(store);
        if (store.Shared)
        {
            // Replicas share the key through the database: an identical call on another replica must have the same digest to redeem.
            services.AddSingleton(sp => new ArgumentDigest(LoadOrCreateSharedKey(store, sp.GetRequiredService<TimeProvider>())));
        }
        else
        {
            services.AddSingleton(new ArgumentDigest(LoadOrCreateKey(Path.Combine(settings.DataDirectory, "gateway.key"))));
        }

        // The policy's "redact" is read on every use, so a reload applies without re-creating the redactor.
        services.AddSingleton(sp => new SecretRedactor(
            settings.Gateway.SecretArgumentNames.Length > 0 ? SecretRedactor.DefaultPatterns.Concat(settings.Gateway.SecretArgumentNames) : null,
            () => sp.GetRequiredService<PolicyStore>().Current.Redaction));
        services.AddSingleton(sp => new PolicyStore(settings.PolicyPath, settings.Policy, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PolicyStore>>()));
        services.AddHostedService(sp => sp.GetRequiredService<PolicyStore>());
        services.AddSingleton<AgentSessions>();
        services.AddSingleton<IUpstreamBridge>(sp => sp.GetRequiredService<AgentSessions>());
        services.AddSingleton<GatewayStartupFailure>();
        services.AddSingleton<UpstreamRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<UpstreamRegistry>());
        services.AddSingleton<CatalogAnnouncer>();
        services.AddHostedService(sp => sp.GetRequiredService<CatalogAnnouncer>());
        services.AddSingleton(settings.Audit ?? new AuditOptions());
        services.AddSingleton(settings.Webhooks ?? WebhookSettings.None);
        // The outbox is written by the audit writer, in the same transaction as the rows.
        services.AddSingleton<WebhookRouter>();
        services.AddSingleton<IAuditOutbox>(sp => sp.GetRequiredService<WebhookRouter>());
        services.AddSingleton<AuditTrail>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditTrail>());
        // No redirects: a signed body goes only to the configured URL.
        services.AddHttpClient(WebhookDispatcher.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddSingleton<WebhookHealthReport>();
        services.AddSingleton<AuditRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditRetention>());
        services.AddSingleton<GatewayProxy>();
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<HeldCalls>();
        services.AddMetrics();
        services.AddSingleton(sp => new GatewayTelemetry(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), () => sp.GetRequiredService<HeldCalls>().Count));
        services.AddSingleton<BusApprovalEvents>();
        services.AddSingleton<IApprovalEvents>(sp => sp.GetRequiredService<BusApprovalEvents>());
        services.AddSingleton<IGrantEvents>(sp => sp.GetRequiredService<BusApprovalEvents>());
        services.AddSingleton<GrantLifecycle>();
        services.AddHostedService<GrantMaintenance>();
        services.AddSingleton<IArgumentEdits, ArgumentEdits>();
        services.AddSingleton<ApprovalLifecycle>();
        services.AddSingleton<ApprovalGate>();
        services.AddHttpContextAccessor();
        services.AddSingleton<CallEnforcement>();
        services.AddSingleton<AgentAuthentication>();
        services.AddSingleton<AgentIdentity>();
        services.AddSingleton<FrontHygiene>();
        services.AddHostedService<ApprovalMaintenance>();
        services.AddSingleton<McpTaskRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<McpTaskRunner>());
        services.AddSingleton<GatewayHeartbeatPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayHeartbeatPublisher>());
        return services;
    }

    /// <summary>The MCP server: every handler forwards, and the filters decide policy in one place.</summary>
    public static IMcpServerBuilder AddGatewayMcpServer(this IServiceCollection services)
    {
        return services
            .AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = "approvalbot", Version = GatewayInfo.Version };
                // Every handler and filter resolves singletons from the server's services: no DI scope per
                // request (a call held for approval would keep its scope and a state machine for minutes).
                o.ScopeRequests = false;
                o.Capabilities = new ServerCapabilities
                {
                    Tools = new ToolsCapability { ListChanged = true },
                    Prompts = new PromptsCapability { ListChanged = true },
                    Resources = new ResourcesCapability { ListChanged = true, Subscribe = true },
                    Logging = new LoggingCapability(),
                    Completions = new CompletionsCapability(),
                };
            })
            .WithListToolsHandler((c, ct) => Proxy(c).ListToolsAsync(c, ct))
            .WithCallToolHandler((c, ct) => Proxy(c).CallToolAsync(c, ct))
            .WithListPromptsHandler((c, ct) => Proxy(c).ListPromptsAsync(c, ct))
            .WithGetPromptHandler((c, ct) => Proxy(c).GetPromptAsync(c, ct))
            .WithListResourcesHandler((c, ct) => Proxy(c).ListResourcesAsync(c, ct))
            .WithListResourceTemplatesHandler((c, ct) => Proxy(c).ListResourceTemplatesAsync(c, ct))
            .WithReadResourceHandler((c, ct) => Proxy(c).ReadResourceAsync(c, ct))
            .WithSubscribeToResourcesHandler((c, ct) => Proxy(c).SubscribeAsync(c, ct))
            .WithUnsubscribeFromResourcesHandler((c, ct) => Proxy(c).UnsubscribeAsync(c, ct))
            .WithCompleteHandler((c, ct) => Proxy(c).CompleteAsync(c, ct))
            .WithSetLoggingLevelHandler((c, ct) => Proxy(c).SetLoggingLevelAsync(c, ct))
            .WithRequestFilters(filters =>
            {
                filters.AddCallToolFilter(next => (c, ct) => Enforcement(c).CallToolAsync(c, next, ct));
                filters.AddListToolsFilter(next => (c, ct) => Enforcement(c).ListToolsAsync(c, next, ct));
            })
            .WithGatewayTasks();

        static GatewayProxy Proxy(ModelContextProtocol.Server.MessageContext c) => c.Server.Services!.GetRequiredService<GatewayProxy>();
        static CallEnforcement Enforcement(ModelContextProtocol.Server.MessageContext c) => c.Server.Services!.GetRequiredService<CallEnforcement>();
    }

    /// <summary>
    /// MCP over stdin/stdout. A session hears list_changed from its initialization on, even before its
    /// first request: stdio has no session hook, so an incoming-message filter watches for
    /// <c>notifications/initialized</c>. Only here: over HTTP the session handler does it, and any incoming
    /// filter makes the SDK keep a message context and two state machines for every request in flight.
    /// </summary>
    public static IMcpServerBuilder WithGatewayStdioTransport(this IMcpServerBuilder builder) =>
        builder
            .WithStdioServerTransport()
            .WithMessageFilters(filters => filters.AddIncomingFilter(next => (c, ct) =>
            {
                if (c.JsonRpcMessage is JsonRpcNotification { Method: NotificationMethods.InitializedNotification })
                {
                    c.Server.Services!.GetRequiredService<AgentSessions>().Touch(c.Server);
                }

                return next(c, ct);
            }));

    /// <summary>Streamable HTTP at /mcp behind origin, size and API-key checks; idle sessions expire.</summary>
    public static IMcpServerBuilder WithGatewayHttpTransport(this IMcpServerBuilder builder, GatewayOptions options) =>
        builder.WithHttpTransport(o =>
        {
            // A gateway forwards what upstreams send on their own (sampling, elicitation, roots,
            // list_changed, logging): that needs a session per agent, so every client gets one
            // (2026-07-28 clients are asked to use the initialize handshake).
            o.SessionMode = ModelContextProtocol.AspNetCore.HttpServerSessionMode.Stateful;
            o.IdleTimeout = options.SessionIdleTimeout;
            o.RunSessionHandler = async (http, server, ct) =>
            {
                var sessions = http.RequestServices.GetRequiredService<AgentSessions>();
                sessions.Touch(server);
                try
                {
                    await server.RunAsync(ct);
                }
                finally
                {
                    sessions.Remove(server);
                }
            };
        });

    public static WebApplication MapGatewayFront(this WebApplication app)
    {
        app.UseWhen(
            c => c.Request.Path.StartsWithSegments("/mcp"),
            branch =>
            {
                var hygiene = app.Services.GetRequiredService<FrontHygiene>();
                var authentication = app.Services.GetRequiredService<AgentAuthentication>();
                // The (context, RequestDelegate) overload: no closure per request for the next step.
                branch.Use(hygiene.InvokeAsync);
                branch.Use(authentication.InvokeAsync);
            });
        app.MapMcp("/mcp");
        return app;
    }

    private static string ResolveInstanceId(GatewaySettings settings)
    {
        if (!string.IsNullOrWhiteSpace(settings.Gateway.InstanceId))
        {
            return settings.Gateway.InstanceId;
        }

        // Stable across restarts of the same data directory, so approvals find their owner again.
        var file = Path.Combine(settings.DataDirectory, "gateway.instance");
        if (File.Exists(file))
        {
            return File.ReadAllText(file).Trim();
        }

        var id = $"{Environment.MachineName.ToLowerInvariant()}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        File.WriteAllText(file, id);
        return id;
    }

    private static byte[] LoadOrCreateSharedKey(GatewayStore store, TimeProvider time)
    {
        // Resolved while the host builds its services, before GatewayStartup runs: the table must exist first
        // (migrating twice changes nothing). Once per process, at start-up, so blocking here is acceptable.
        store.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        return store.LoadOrCreateSharedKeyAsync("argument-digest", RandomNumberGenerator.GetBytes(32), time.GetUtcNow(), CancellationToken.None).GetAwaiter().GetResult();
    }

    private static byte[] LoadOrCreateKey(string file)
    {
        if (File.Exists(file))
        {
            return Convert.FromHexString(File.ReadAllText(file).Trim());
        }

        var key = RandomNumberGenerator.GetBytes(32);
        File.WriteAllText(file, Convert.ToHexStringLower(key));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return key;
    }
}

/// <summary>Creates the database before anything else uses it.</summary>
internal sealed class GatewayStartup(GatewayStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.MigrateAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
