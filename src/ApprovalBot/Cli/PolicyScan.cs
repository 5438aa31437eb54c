using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ApprovalBot.Configuration;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Upstreams;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Cli;

/// <summary>
/// <c>policy scan [--out FILE] [--default deny|allow|require_approval]</c>: connects to the configured
/// upstreams and writes a starting policy — destructive tools (annotation or name) need approval,
/// read-only ones are allowed, the rest fall to the default — each with its cause as the reason.
/// </summary>
public static partial class PolicyScan
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var configuration = CliConfiguration.Build(args);
        var options = configuration.GetSection(ApprovalBotOptions.Section).Get<ApprovalBotOptions>() ?? new ApprovalBotOptions();
        var fallback = CommandLine.Option(args, "--default") ?? "deny";
        if (fallback is not ("deny" or "allow" or "require_approval"))
        {
            stderr.WriteLine("policy scan: --default must be deny, allow or require_approval");
            return 2;
        }

        var appDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var connections = options.Gateway.Upstreams.Where(u => u.Value.Enabled).OrderBy(u => u.Key, StringComparer.Ordinal)
            .Select(u => new UpstreamConnection(
                u.Key,
                u.Value with { Args = u.Value.Args.Select(a => a.Replace("{AppDir}", appDir, StringComparison.Ordinal)).ToArray() },
                NoAgents.Instance,
                TimeProvider.System,
                NullLoggerFactory.Instance))
            .ToList();
        using var stop = new CancellationTokenSource();
        var running = connections.Select(c => c.RunAsync(stop.Token)).ToList();
        try
        {
            await Task.WhenAll(connections.Select(c => c.FirstAttempt)).WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            // Reported per upstream below.
        }

        var rules = new JsonObject();
        var failed = 0;
        foreach (var connection in connections)
        {
            if (!connection.Connected)
            {
                stderr.WriteLine($"policy scan: upstream {connection.Name} did not connect ({connection.LastError}); its tools are not in the policy.");
                failed++;
                continue;
            }

            foreach (var tool in connection.Lists.Tools.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                var (action, reason) = Classify(tool);
                if (action is null)
                {
                    continue;
                }

                rules[connection.Prefix + tool.Name] = new JsonObject { ["action"] = action, ["reason"] = reason };
            }
        }

        await stop.CancelAsync();
        await Task.WhenAll(running).ContinueWith(_ => { }, TaskScheduler.Default);
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        var policy = new JsonObject { ["version"] = "1", ["default"] = fallback, ["rules"] = rules };
        var json = policy.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        var check = Policy.Parse(json);
        if (!check.Success)
        {
            stderr.WriteLine("policy scan produced an invalid policy: " + string.Join("; ", check.Errors));
            return 1;
        }

        if (CommandLine.Option(args, "--out") is { } path)
        {
            await File.WriteAllTextAsync(path, json + Environment.NewLine);
            stdout.WriteLine($"wrote {path}: {check.Policy!.Summary}");
        }
        else
        {
            stdout.WriteLine(json);
        }

        return failed == 0 ? 0 : 1;
    }

    /// <summary>require_approval for destructive tools, allow for read-only ones, null (the default) otherwise.</summary>
    public static (string? Action, string? Reason) Classify(Tool tool)
    {
        if (tool.Annotations?.DestructiveHint == true)
        {
            return ("require_approval", "marked destructive by its destructiveHint annotation");
        }

        if (DestructiveName().Match(tool.Name) is { Success: true } match)
        {
            return ("require_approval", $"its name says '{match.Value.Trim('_', '-').ToLowerInvariant()}', which is usually destructive");
        }

        if (tool.Annotations?.ReadOnlyHint == true)
        {
            return ("allow", "marked read-only by its readOnlyHint annotation");
        }

        return (null, null);
    }

    [GeneratedRegex(@"(^|[_\-.])(cancel|delete|destroy|terminate|drop|remove|kill|purge|wipe|reset|revoke|truncate|shutdown|stop)($|[_\-.])", RegexOptions.IgnoreCase)]
    private static partial Regex DestructiveName();

    /// <summary>The scan has no agents: upstream requests to a client are refused.</summary>
    private sealed class NoAgents : IUpstreamBridge
    {
        public static readonly NoAgents Instance = new();

        public ValueTask<CreateMessageResult> SampleAsync(UpstreamConnection upstream, CreateMessageRequestParams? request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no client during a policy scan");

        public ValueTask<ElicitResult> ElicitAsync(UpstreamConnection upstream, ElicitRequestParams? request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no client during a policy scan");

        public ValueTask<ListRootsResult> ListRootsAsync(UpstreamConnection upstream, ListRootsRequestParams? request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new ListRootsResult { Roots = [] });

        public ValueTask OnNotificationAsync(UpstreamConnection upstream, string method, JsonNode? parameters, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask OnListChangedAsync(string method, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
