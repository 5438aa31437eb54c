using ApprovalBot.Hosting;

namespace ApprovalBot.Cli;

/// <summary>
/// <c>approvalbot</c> with no verb runs the server. Verbs: <c>stdio</c>, <c>policy validate|explain|test</c>,
/// <c>approvals list|approve|deny</c>, <c>hash-key</c>.
/// </summary>
public static class CommandLine
{
    public const string Usage = """
        usage:
          approvalbot [--ApprovalBot:Key=value ...]          run the gateway and/or bot (per ApprovalBot:Role)
          approvalbot stdio [--ApprovalBot:Key=value ...]    the gateway on stdin/stdout, for clients that launch servers
          approvalbot policy validate FILE
          approvalbot policy explain FILE --tool T [--agent A] [--args JSON] [--annotations JSON]
          approvalbot policy test FILE CASES.json
          approvalbot policy scan [--out FILE] [--default deny|allow|require_approval] [--ApprovalBot:Key=value ...]
          approvalbot approvals list [--status pending|all|...] [--url URL] [--token TOKEN]
          approvalbot approvals approve ID [--comment TEXT] [--url URL] [--token TOKEN]
          approvalbot approvals deny ID --comment TEXT [--url URL] [--token TOKEN]
          approvalbot hash-key API_KEY                       the SHA-256 to put in Gateway:Agents:<name>:ApiKeySha256
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : null;
        switch (verb)
        {
            case null:
                return await RunServerAsync(args, stdio: false, stderr);
            case "stdio":
                return await RunServerAsync(args[1..], stdio: true, stderr);
            case "policy" when args.Length > 1 && args[1] == "scan":
                return await PolicyScan.RunAsync(args[2..], stdout, stderr);
            case "policy":
                return PolicyCommands.Run(args[1..], stdout, stderr);
            case "approvals":
                return await ApprovalCommands.RunAsync(args[1..], stdout, stderr);
            case "hash-key" when args.Length == 2:
                stdout.WriteLine(Gateway.Identity.AgentAuthentication.HashKey(args[1]));
                return 0;
            case "help" or "--help" or "-h":
                stdout.WriteLine(Usage);
                return 0;
            default:
                stderr.WriteLine($"approvalbot: unknown command '{verb}'.");
                stderr.WriteLine(Usage);
                return 2;
        }
    }

    private static async Task<int> RunServerAsync(string[] args, bool stdio, TextWriter stderr)
    {
        var (app, errors) = ServerHost.Build(args, stdio, stderr);
        if (app is null)
        {
            stderr.WriteLine($"approvalbot: refusing to start, {errors.Count} configuration problem(s):");
            foreach (var error in errors)
            {
                stderr.WriteLine($"  - {error}");
            }

            return 2;
        }

        // A problem only visible once the upstreams answered (two of them exposing one tool name).
        // Resolved first: RunAsync disposes the services when it returns.
        var startupFailure = app.Services.GetService<Gateway.Upstreams.GatewayStartupFailure>();
        await app.RunAsync();
        if (startupFailure?.Reason is { } failure)
        {
            stderr.WriteLine($"approvalbot: refusing to start: {failure}");
            return 2;
        }

        return 0;
    }

    /// <summary>The value after <paramref name="name"/>, or null.</summary>
    internal static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
