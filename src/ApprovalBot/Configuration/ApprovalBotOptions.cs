using ApprovalBot.Bot.WebConsole;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Webhooks;
using ApprovalBot.Storage;

namespace ApprovalBot.Configuration;

/// <summary>The <c>ApprovalBot</c> configuration section (see appsettings.example.json).</summary>
public sealed record ApprovalBotOptions
{
    public const string Section = "ApprovalBot";

    public ServerRole Role { get; init; } = ServerRole.All;

    public string DataDirectory { get; init; } = "data";

    /// <summary>Where approvals, grants, tasks, audit and card references live: SQLite files (default) or a shared PostgreSQL.</summary>
    public StorageOptions Storage { get; init; } = new();

    public string PolicyPath { get; init; } = "examples/policy.json";

    public BusOptions Bus { get; init; } = new();

    public ApprovalOptions Approvals { get; init; } = new();

    public GatewayOptions Gateway { get; init; } = new();

    public ConsoleOptions Console { get; init; } = new();

    public TelemetryOptions Telemetry { get; init; } = new();

    public AuditOptions Audit { get; init; } = new();

    /// <summary>Outbound webhooks, keyed by name (so configuration layers add to each other).</summary>
    public Dictionary<string, WebhookOptions> Webhooks { get; init; } = new(StringComparer.Ordinal);

    public bool RunsGateway => Role is ServerRole.All or ServerRole.Gateway;

    public bool RunsBot => Role is ServerRole.All or ServerRole.Bot;
}

/// <summary>What this process runs; configured as <c>all</c>, <c>gateway</c> or <c>bot</c> (any case).</summary>
public enum ServerRole
{
    All,
    Gateway,
    Bot,
}

public sealed record BusOptions
{
    /// <summary>InMemory (one process) or RabbitMq.</summary>
    public string Transport { get; init; } = "InMemory";

    public RabbitMqOptions RabbitMq { get; init; } = new();

    /// <summary>Names this bot instance's heartbeat queue; defaults to the machine name plus a random suffix.</summary>
    public string? BotInstanceId { get; init; }
}

public sealed record RabbitMqOptions
{
    public string? Host { get; init; } = "localhost";
    public int Port { get; init; } = 5672;
    public string VirtualHost { get; init; } = "/";
    public string Username { get; init; } = "guest";
    public string Password { get; init; } = "guest";
}

public sealed record TelemetryOptions
{
    /// <summary>Map the Prometheus scrape endpoint at /metrics.</summary>
    public bool Prometheus { get; init; }

    /// <summary>Send traces and metrics to an OTLP collector (e.g. http://otel-collector:4317).</summary>
    public string? OtlpEndpoint { get; init; }
}
