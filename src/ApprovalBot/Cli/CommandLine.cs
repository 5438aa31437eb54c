using ApprovalBot.Storage;
using System.Text.RegularExpressions;
using ApprovalBot.Hosting;
using Microsoft.AspNetCore.Connections;

namespace ApprovalBot.Cli;

/// <summary>
/// <c>approvalbot</c> with no verb runs the server. Verbs: <c>stdio</c>, <c>policy validate|explain|test|scan</c>,
/// <c>approvals list|approve|deny|cancel</c>, <c>grants list|revoke</c>, <c>audit list|export|timeline</c>, <c>hash-key</c>, <c>help</c>. <c>--help</c>/<c>-h</c> after
/// anything prints its usage and exits 0 (and never starts a server).
/// </summary>
public static partial class CommandLine
{
    public const string Usage = """
        usage:
          approvalbot [--urls URL] [--ApprovalBot:Key=value ...]   run the gateway and/or bot (per ApprovalBot:Role)
          approvalbot stdio [--ApprovalBot:Key=value ...]          the gateway on stdin/stdout, for clients that launch servers
          approvalbot policy validate FILE
          approvalbot policy explain FILE --tool T [--agent A] [--args JSON] [--annotations JSON]
          approvalbot policy test FILE CASES.json
          approvalbot policy scan [--out FILE] [--default deny|allow|require_approval] [--ApprovalBot:Key=value ...]
          approvalbot approvals list [--status pending|all|...] [--url URL] [--token TOKEN]
          approvalbot approvals approve ID [--comment TEXT] [--grant DURATION] [--url URL] [--token TOKEN]
          approvalbot approvals deny ID --comment TEXT [--url URL] [--token TOKEN]
          approvalbot approvals cancel ID [--comment TEXT] [--url URL] [--token TOKEN]
          approvalbot grants list [--status active|all] [--url URL] [--token TOKEN]
          approvalbot grants revoke ID [--comment TEXT] [--url URL] [--token TOKEN]
          approvalbot audit list [--agent A] [--tool T] [--decision D,...] [--approval ID] [--since T] [--until T] [--limit N] [--cursor C]
          approvalbot audit export --format jsonl|csv [--out FILE] [--since T] [--until T] [filters as for list]
          approvalbot audit timeline ID
                                       (audit: through the server as approvals does, or --offline / --database FILE)
          approvalbot hash-key API_KEY                             the SHA-256 to put in Gateway:Agents:<name>:ApiKeySha256
          approvalbot help [VERB]                                  this text, or a verb's (also: VERB --help)

        The server listens on Urls (shipped: http://localhost:5080); change it with --urls URL,
        ASPNETCORE_URLS or Urls in appsettings.json. Configuration keys: see README.md.
        """;

    private const string ServerUsage = """
        usage: approvalbot [--urls URL] [--ApprovalBot:Key=value ...]

        Runs the gateway and/or the bot, per ApprovalBot:Role (all, gateway or bot), on one HTTP host.
          --urls URL            where to listen (shipped: http://localhost:5080); also ASPNETCORE_URLS or Urls
          --ApprovalBot:K=V     any configuration key (also appsettings.json, or ApprovalBot__K=V variables)
        Exit codes: 0 stopped, 2 invalid configuration or address already in use.
        """;

    private const string StdioUsage = """
        usage: approvalbot stdio [--ApprovalBot:Key=value ...]

        The gateway on stdin/stdout, for MCP clients that launch their servers as processes. stdout
        carries only the protocol; logs go to stderr. The agent identity is Gateway:StdioAgent.
        """;

    private const string PolicyUsage = """
        usage:
          approvalbot policy validate FILE
              Checks a policy file; prints every problem with its JSON path. Exit 0 valid, 1 invalid.
          approvalbot policy explain FILE --tool T [--agent A] [--args JSON] [--annotations JSON]
              Prints the decision for one call and every rule considered.
          approvalbot policy test FILE CASES.json
              Runs a table of cases [{"agent","tool","args","annotations","expect"}]; exit 1 on a mismatch.
          approvalbot policy scan [--out FILE] [--default deny|allow|require_approval] [--ApprovalBot:Key=value ...]
              Connects to the configured upstreams and writes a starting policy (stdout, or FILE).
        Relative paths are relative to the current directory.
        """;

    private const string ApprovalsUsage = """
        usage:
          approvalbot approvals list [--status pending|all|approved|denied|expired|...] [--url URL] [--token TOKEN]
          approvalbot approvals approve ID [--comment TEXT] [--grant DURATION] [--url URL] [--token TOKEN]
          approvalbot approvals deny ID --comment TEXT [--url URL] [--token TOKEN]
          approvalbot approvals cancel ID [--comment TEXT] [--url URL] [--token TOKEN]   (withdraw: nothing runs)

        --grant DURATION approves for a while (one of the rule's "grants", e.g. 1h): later calls of the
        agent to the tool run without asking until the grant ends (see 'approvalbot grants').

        Talks to a running server's console API. By default it finds the server the way the server
        configures itself, from the same appsettings.json, environment and --Key=value arguments:
          URL     --url, else APPROVALBOT_URL, else the server's Urls (--urls, ASPNETCORE_URLS, appsettings.json;
                  0.0.0.0, * and + mean localhost)
          token   --token, else APPROVALBOT_TOKEN, else ApprovalBot:Console:AdminToken, else
                  console.token in the server's data directory (ApprovalBot:DataDirectory, default ./data)
        """;

    private const string GrantsUsage = """
        usage:
          approvalbot grants list [--status active|all] [--url URL] [--token TOKEN]
              Active grants (approvals given for a while), soonest to end first; --status all also lists ended ones.
          approvalbot grants revoke ID [--comment TEXT] [--url URL] [--token TOKEN]
              Ends the grant now: the agent's next call to the tool asks for approval again.

        Talks to a running server's console API, found as 'approvals' finds it (--url, APPROVALBOT_URL,
        the server's Urls; token from --token, APPROVALBOT_TOKEN, Console:AdminToken or console.token).
        Revoking acts as console:admin, so the rule's approvers must include it (or name nobody).
        """;

    private const string AuditUsage = """
        usage:
          approvalbot audit list [--agent A] [--tool T] [--decision D,...] [--approval ID] [--since T] [--until T] [--limit N] [--cursor C]
              Newest first, 50 rows unless --limit (at most 1000); prints the --cursor for older rows.
          approvalbot audit export --format jsonl|csv [--out FILE] [--since T] [--until T] [--agent A] [--tool T] [--decision D,...] [--approval ID]
              Every matching row (stdout, or FILE), newest first, the same fields as the API.
          approvalbot audit timeline ID
              One approval from request to execution: cards posted, votes, decision, hand-backs, redeems.

        T is ISO 8601: 2026-11-01 (midnight UTC) or 2026-11-01T08:00:00Z; --since is inclusive, --until exclusive.
        Decisions: allowed, denied (by policy), hidden, unknown, rate_limited, held, handed_back, redeemed,
        approved, denied_by_human, cancelled, expired, lapsed, executed, execution_failed, card_posted, …

        Where the audit is read:
          by default  the server's audit API, found as 'approvals' finds it (--url, APPROVALBOT_URL, the
                      server's Urls; token from --token, APPROVALBOT_TOKEN, Console:AdminToken or console.token)
          --offline   the gateway database in the server's data directory (ApprovalBot:DataDirectory, default ./data)
          --database FILE   that gateway.db
        """;

    private const string HashKeyUsage = """
        usage: approvalbot hash-key API_KEY

        Prints the hex SHA-256 of an agent's API key, for Gateway:Agents:<name>:ApiKeySha256.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var verb = args.Length > 0 && !args[0].StartsWith('-') ? args[0] : null;
        if (verb == "help")
        {
            return PrintHelp(args.Length > 1 ? args[1] : null, stdout, stderr);
        }

        if (args.Any(IsHelpFlag))
        {
            return PrintHelp(verb, stdout, stderr);
        }

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
            case "grants":
                return await GrantCommands.RunAsync(args[1..], stdout, stderr);
            case "audit":
                return await AuditCommands.RunAsync(args[1..], stdout, stderr);
            case "hash-key" when args.Length == 2:
                stdout.WriteLine(Gateway.Identity.AgentAuthentication.HashKey(args[1]));
                return 0;
            case "hash-key":
                stderr.WriteLine(HashKeyUsage);
                return 2;
            default:
                stderr.WriteLine($"approvalbot: unknown command '{verb}'.");
                stderr.WriteLine(Usage);
                return 2;
        }
    }

    private static bool IsHelpFlag(string arg) => arg is "--help" or "-h" or "-?";

    private static int PrintHelp(string? verb, TextWriter stdout, TextWriter stderr)
    {
        var text = verb switch
        {
            null => Usage + "\n" + ServerUsage,
            "stdio" => StdioUsage,
            "policy" => PolicyUsage,
            "approvals" => ApprovalsUsage,
            "grants" => GrantsUsage,
            "audit" => AuditUsage,
            "hash-key" => HashKeyUsage,
            "help" => Usage,
            _ => null,
        };
        if (text is null)
        {
            stderr.WriteLine($"approvalbot: unknown command '{verb}'.");
            stderr.WriteLine(Usage);
            return 2;
        }

        stdout.WriteLine(text);
        return 0;
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

        await using (app)
        {
            var urls = (app.Configuration["urls"] ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (ListenCheck.FirstInUse(urls) is { } busy)
            {
                stderr.WriteLine(AddressInUse(busy));
                return 2;
            }

            try
            {
                await app.StartAsync();
            }
            catch (Exception e) when (LogGuard.Find<StorageUnavailableException>(e) is { } storage)
            {
                stderr.WriteLine($"approvalbot: refusing to start: {storage.Message}");
                return 2;
            }
            catch (Exception e) when (LogGuard.Find<AddressInUseException>(e) is not null)
            {
                // Taken between the check and the bind, or an address the check cannot judge.
                var address = BoundAddress().Match(e.Message) is { Success: true } m ? m.Groups["address"].Value : urls.FirstOrDefault() ?? "the configured address";
                stderr.WriteLine(AddressInUse(address));
                return 2;
            }

            // A problem only visible once the upstreams answered (two of them exposing one tool name).
            var startupFailure = app.Services.GetService<Gateway.Upstreams.GatewayStartupFailure>();
            await app.WaitForShutdownAsync();
            if (startupFailure?.Reason is { } failure)
            {
                stderr.WriteLine($"approvalbot: refusing to start: {failure}");
                return 2;
            }
        }

        return 0;
    }

    /// <summary>One line: which address, and how to choose another.</summary>
    internal static string AddressInUse(string address)
    {
        var suggestion = Uri.TryCreate(address.Replace("://*", "://localhost", StringComparison.Ordinal).Replace("://+", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) && uri.Port is > 0 and < 65535
            ? new UriBuilder(uri) { Port = uri.Port + 1 }.Uri.GetLeftPart(UriPartial.Authority)
            : "http://localhost:5081";
        return $"approvalbot: cannot listen on {address}: the address is already in use (another approvalbot?). Choose another with --urls, e.g. --urls {suggestion}";
    }

    /// <summary>The value after <paramref name="name"/>, or null.</summary>
    internal static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>Kestrel: "Failed to bind to address http://127.0.0.1:5080: address already in use."</summary>
    [GeneratedRegex(@"address (?<address>\S+?): address already in use", RegexOptions.IgnoreCase)]
    private static partial Regex BoundAddress();
}
