using ApprovalBot.Storage;
using System.Reflection;
using System.Text.RegularExpressions;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Webhooks;
using Microsoft.Extensions.Configuration;

namespace ApprovalBot.Configuration;

/// <summary>The validated configuration, with paths made absolute and the policy loaded.</summary>
public sealed record ValidatedConfiguration(ApprovalBotOptions Options, string DataDirectory, string PolicyPath, Policy? Policy);

/// <summary>
/// Checks the whole configuration before anything starts and reports every problem at once, one
/// line each, naming the key. Secret values are never echoed.
/// </summary>
public static partial class ConfigurationValidator
{
    public static (ValidatedConfiguration? Result, IReadOnlyList<string> Errors) Validate(IConfiguration configuration, string workingDirectory)
    {
        var errors = new List<string>();
        var section = configuration.GetSection(ApprovalBotOptions.Section);
        // Checked before binding: the binder's own message for a bad enum does not name the key.
        if (configuration[ApprovalBotOptions.Section + ":Role"] is { } role && !Enum.TryParse<ServerRole>(role, ignoreCase: true, out var parsed) | !Enum.IsDefined(parsed))
        {
            return (null, [$"{ApprovalBotOptions.Section}:Role must be all, gateway or bot (got '{role}')."]);
        }

        if (configuration[StorageOptions.SectionPath + ":Provider"] is { } provider
            && (!Enum.TryParse<StorageProvider>(provider, ignoreCase: true, out var storage) || !Enum.IsDefined(storage)))
        {
            return (null, [$"{StorageOptions.SectionPath}:Provider must be Sqlite or Postgres (got '{provider}')."]);
        }

        ApprovalBotOptions options;
        try
        {
            options = section.Get<ApprovalBotOptions>() ?? new ApprovalBotOptions();
        }
        catch (InvalidOperationException e)
        {
            // Binder errors name the key and the bad value type ("cannot convert 'abc' to TimeSpan").
            return (null, [$"ApprovalBot: {e.InnerException?.Message ?? e.Message}"]);
        }

        // "Events=a,b" (one environment variable) has no array children, so the binder skips it: take it as written.
        foreach (var (name, webhook) in options.Webhooks.ToList())
        {
            if (configuration.GetSection($"{WebhookOptions.SectionPath}:{name}:Events").Value is { Length: > 0 } list)
            {
                options.Webhooks[name] = webhook with { Events = [.. webhook.Events, list] };
            }
        }

        switch (options.Bus.Transport)
        {
            case "InMemory":
                if (options.Role != ServerRole.All)
                {
                    errors.Add($"ApprovalBot:Bus:Transport InMemory works only with Role all; a separate {options.Role.ToString().ToLowerInvariant()} process needs RabbitMq.");
                }

                break;
            case "RabbitMq":
                if (string.IsNullOrWhiteSpace(options.Bus.RabbitMq.Host))
                {
                    errors.Add("ApprovalBot:Bus:RabbitMq:Host is required when Bus:Transport is RabbitMq.");
                }

                if (options.Bus.RabbitMq.Port is < 1 or > 65535)
                {
                    errors.Add($"ApprovalBot:Bus:RabbitMq:Port must be 1-65535 (got {options.Bus.RabbitMq.Port}).");
                }

                break;
            default:
                errors.Add($"ApprovalBot:Bus:Transport must be InMemory or RabbitMq (got '{options.Bus.Transport}').");
                break;
        }

        if (options.Telemetry.OtlpEndpoint is { Length: > 0 } otlp && !Uri.TryCreate(otlp, UriKind.Absolute, out _))
        {
            errors.Add("ApprovalBot:Telemetry:OtlpEndpoint must be an absolute URL (e.g. http://otel-collector:4317).");
        }

        errors.AddRange(options.Storage.Validate());
        var dataDirectory = Path.GetFullPath(options.DataDirectory, workingDirectory);
        var policyPath = ResolvePolicyPath(options.PolicyPath, workingDirectory);
        Policy? policy = null;
        if (options.RunsGateway)
        {
            errors.AddRange(options.Gateway.Validate());
            errors.AddRange(options.Approvals.Validate());
            errors.AddRange(options.Audit.Validate());
            errors.AddRange(WebhookOptions.ValidateAll(options.Webhooks));
            var loaded = PolicyStore.Load(policyPath);
            if (loaded.Success)
            {
                policy = loaded.Policy;
            }
            else
            {
                errors.AddRange(loaded.Errors.Select(e => $"ApprovalBot:PolicyPath ({policyPath}) {e}"));
            }
        }

        // The gateway's audit API takes the same token as the bot's console API.
        if (options.Console.AdminToken is { Length: > 0 and < 16 })
        {
            errors.Add("ApprovalBot:Console:AdminToken must be at least 16 characters (or empty to generate one).");
        }

        if (options.RunsBot)
        {
            if (options.Console.GatewayUrl is { Length: > 0 } gatewayUrl
                && (!Uri.TryCreate(gatewayUrl, UriKind.Absolute, out var gatewayUri) || gatewayUri.Scheme is not ("http" or "https")))
            {
                errors.Add($"ApprovalBot:Console:GatewayUrl must be an absolute http(s) URL of a gateway (got '{gatewayUrl}').");
            }

            var slack = configuration.GetSection(SlackOptions.SectionPath).Get<SlackOptions>() ?? new SlackOptions();
            errors.AddRange(slack.Validate());
            var teams = configuration.GetSection(TeamsOptions.SectionPath).Get<TeamsOptions>() ?? new TeamsOptions();
            errors.AddRange(teams.Validate());
        }

        return errors.Count > 0 ? (null, errors) : (new ValidatedConfiguration(options, dataDirectory, policyPath, policy), errors);
    }

    /// <summary>
    /// Relative to where the command runs. When not there: the source checkout the program was built
    /// from (so <c>dotnet run</c> from any folder watches the repository's file, the one being edited),
    /// then the copy shipped beside the program.
    /// </summary>
    public static string ResolvePolicyPath(string path, string workingDirectory)
    {
        var candidate = Path.GetFullPath(path, workingDirectory);
        if (File.Exists(candidate) || Path.IsPathRooted(path))
        {
            return candidate;
        }

        if (SourceRoot is { } root && File.Exists(Path.Combine(root, path)))
        {
            return Path.GetFullPath(Path.Combine(root, path));
        }

        var shipped = Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(shipped) ? shipped : candidate;
    }

    /// <summary>The repository this program was built from, if it is still there (not for a published copy elsewhere).</summary>
    internal static string? SourceRoot
    {
        get
        {
            var root = typeof(ConfigurationValidator).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "ApprovalBot.SourceRoot")?.Value;
            return root is { Length: > 0 } && File.Exists(Path.Combine(root, "ApprovalBot.sln")) ? root : null;
        }
    }
}
