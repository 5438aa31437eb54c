using System.Reflection;
using System.Text.RegularExpressions;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Policies;
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

        if (options.Role is not ("all" or "gateway" or "bot"))
        {
            errors.Add($"ApprovalBot:Role must be all, gateway or bot (got '{options.Role}').");
        }

        switch (options.Bus.Transport)
        {
            case "InMemory":
                if (options.Role != "all")
                {
                    errors.Add($"ApprovalBot:Bus:Transport InMemory works only with Role all; a separate {options.Role} process needs RabbitMq.");
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

        var dataDirectory = Path.GetFullPath(options.DataDirectory, workingDirectory);
        var policyPath = ResolvePolicyPath(options.PolicyPath, workingDirectory);
        Policy? policy = null;
        if (options.RunsGateway)
        {
            ValidateGateway(options, errors);
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

        if (options.RunsBot)
        {
            if (options.Console.AdminToken is { Length: > 0 and < 16 })
            {
                errors.Add("ApprovalBot:Console:AdminToken must be at least 16 characters (or empty to generate one).");
            }

            var slack = configuration.GetSection("ApprovalBot:Slack").Get<SlackOptions>() ?? new SlackOptions();
            errors.AddRange(slack.Validate());
            var teams = configuration.GetSection("ApprovalBot:Teams").Get<TeamsOptions>() ?? new TeamsOptions();
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

    private static void ValidateGateway(ApprovalBotOptions options, List<string> errors)
    {
        var gateway = options.Gateway;
        if (gateway.Upstreams.Count(u => u.Value.Enabled) == 0)
        {
            errors.Add("ApprovalBot:Gateway:Upstreams has no enabled upstream: configure at least one (Command or Url).");
        }

        foreach (var (name, upstream) in gateway.Upstreams.Where(u => u.Value.Enabled))
        {
            var key = $"ApprovalBot:Gateway:Upstreams:{name}";
            if (!UpstreamName().IsMatch(name))
            {
                errors.Add($"{key}: the name may contain only letters, digits, '_' and '-'.");
            }

            var hasCommand = !string.IsNullOrWhiteSpace(upstream.Command);
            var hasUrl = !string.IsNullOrWhiteSpace(upstream.Url);
            if (hasCommand && hasUrl)
            {
                errors.Add($"{key} has both Command and Url; an upstream is either stdio (Command) or Streamable HTTP (Url).");
            }
            else if (!hasCommand && !hasUrl)
            {
                errors.Add($"{key} needs Command (stdio) or Url (Streamable HTTP).");
            }

            if (hasUrl && (!Uri.TryCreate(upstream.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
            {
                errors.Add($"{key}:Url must be an absolute http(s) URL.");
            }

            if (upstream.CallTimeout <= TimeSpan.Zero)
            {
                errors.Add($"{key}:CallTimeout must be positive (e.g. 00:01:00).");
            }

            if (upstream.PingInterval < TimeSpan.Zero)
            {
                errors.Add($"{key}:PingInterval must not be negative (00:00:00 turns pings off).");
            }

            if (upstream.WorkingDirectory is { Length: > 0 } wd && !Directory.Exists(wd))
            {
                errors.Add($"{key}:WorkingDirectory '{wd}' does not exist.");
            }
        }

        foreach (var (name, agent) in gateway.Agents)
        {
            if (agent.ApiKeySha256 is null || !Sha256Hex().IsMatch(agent.ApiKeySha256.Trim()))
            {
                errors.Add($"ApprovalBot:Gateway:Agents:{name}:ApiKeySha256 must be 64 hex characters (the SHA-256 of the key; see 'approvalbot hash-key').");
            }
        }

        for (var i = 0; i < gateway.AllowedHosts.Length; i++)
        {
            if (!AllowedHost().IsMatch(gateway.AllowedHosts[i]))
            {
                errors.Add($"ApprovalBot:Gateway:AllowedHosts:{i} '{gateway.AllowedHosts[i]}' must be a host name or address (optionally *.domain, or * for any), without scheme or path.");
            }
        }

        if (gateway.StartupWait < TimeSpan.Zero)
        {
            errors.Add("ApprovalBot:Gateway:StartupWait must not be negative (00:00:00 serves lists without waiting for upstreams).");
        }

        if (gateway.MaxRequestBodyBytes < 1024)
        {
            errors.Add("ApprovalBot:Gateway:MaxRequestBodyBytes must be at least 1024.");
        }

        errors.AddRange(options.Approvals.Validate("ApprovalBot:" + ApprovalOptions.SectionName));
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex UpstreamName();

    [GeneratedRegex(@"^(\*|(\*\.)?[A-Za-z0-9_.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$")]
    private static partial Regex AllowedHost();

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Hex();
}
