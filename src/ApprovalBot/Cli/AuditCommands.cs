using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Cli;

/// <summary>
/// <c>audit list|export|timeline</c>: through the gateway's audit API (found like the <c>approvals</c>
/// verbs find the server), or with <c>--offline</c> / <c>--database FILE</c> straight from the
/// gateway's database, with the same queries and the same output.
/// </summary>
public static class AuditCommands
{
    private const int DefaultListLimit = 50;

    /// <summary>The way out this verb offers when the server is not there to ask.</summary>
    private const string Offline = "read the database with --offline";

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken = default)
    {
        if (args.Length == 0 || args[0] is not ("list" or "export" or "timeline"))
        {
            stderr.WriteLine(CommandLine.Usage);
            return 2;
        }

        var verb = args[0];
        var configuration = CliConfiguration.Build(args);
        var (query, error) = AuditQuery.Parse(
            CommandLine.Option(args, "--agent"), CommandLine.Option(args, "--tool"), CommandLine.Option(args, "--decision"),
            CommandLine.Option(args, "--approval"), CommandLine.Option(args, "--since"), CommandLine.Option(args, "--until"),
            CommandLine.Option(args, "--cursor"), CommandLine.Option(args, "--limit"));
        if (query is null)
        {
            stderr.WriteLine("audit: " + CliNames(error!));
            return 2;
        }

        var format = CommandLine.Option(args, "--format");
        if (verb == "export" && !AuditExport.IsFormat(format))
        {
            stderr.WriteLine($"audit export needs --format jsonl or --format csv{(format is null ? "" : $" (got '{format}')")}.");
            return 2;
        }

        Guid timelineId = default;
        if (verb == "timeline" && (args.Length < 2 || !Guid.TryParse(args[1], out timelineId)))
        {
            stderr.WriteLine("audit timeline needs an approval id: approvalbot audit timeline ID");
            return 2;
        }

        var source = await OpenAsync(args, configuration, stderr, cancellationToken);
        if (source is null)
        {
            return 2;
        }

        await using (source)
        {
            try
            {
                return verb switch
                {
                    "list" => await ListAsync(source, query with { Limit = CommandLine.Option(args, "--limit") is null ? DefaultListLimit : query.Limit }, stdout, cancellationToken),
                    "export" => await ExportAsync(source, query, format!, CommandLine.Option(args, "--out"), stdout, stderr, cancellationToken),
                    _ => await TimelineAsync(source, timelineId, stdout, stderr, cancellationToken),
                };
            }
            catch (HttpRequestException e)
            {
                stderr.WriteLine(e.StatusCode is { } status
                    ? $"audit: the server at {source.Where} answered {(int)status} {status}: {e.Message}"
                    : CliServer.CannotReach("audit", source.Where, e, Offline));
                return 1;
            }
        }
    }

    private static async Task<int> ListAsync(AuditSource source, AuditQuery query, TextWriter stdout, CancellationToken cancellationToken)
    {
        var page = await source.PageAsync(query, cancellationToken);
        foreach (var r in page.Items)
        {
            stdout.WriteLine(string.Join("  ",
                r.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                r.Decision.PadRight(20),
                $"agent={r.Agent ?? "-"}",
                $"tool={r.Tool ?? "-"}",
                r.ApprovalId is { } id ? $"approval={id}" : "",
                r.Actor is { } actor ? $"by={actor}" : "",
                r.Channel is { } channel ? $"via={channel}" : "",
                string.IsNullOrEmpty(r.Reason) ? "" : $"reason={r.Reason}").TrimEnd());
        }

        stdout.WriteLine(page.NextCursor is null
            ? $"{page.Items.Count} row(s)"
            : $"{page.Items.Count} row(s); older ones: add --cursor {page.NextCursor}");
        return 0;
    }

    private static async Task<int> ExportAsync(AuditSource source, AuditQuery query, string format, string? output, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        long count;
        var rows = AuditExport.ReadAllAsync(source.PageAsync, query, cancellationToken);
        if (output is null)
        {
            count = await AuditExport.WriteAsync(rows, format, stdout, cancellationToken);
        }
        else
        {
            await using var file = new StreamWriter(output, append: false, new UTF8Encoding(false));
            count = await AuditExport.WriteAsync(rows, format, file, cancellationToken);
        }

        stderr.WriteLine($"audit: exported {count} row(s){(output is null ? "" : " to " + output)}.");
        return 0;
    }

    private static async Task<int> TimelineAsync(AuditSource source, Guid id, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        if (await source.TimelineAsync(id, cancellationToken) is not { } timeline)
        {
            stderr.WriteLine($"audit: no approval {id} (unknown, or removed by retention).");
            return 1;
        }

        var a = timeline.Approval;
        stdout.WriteLine($"Approval {a.Id}: {a.Tool} for agent {a.Agent} — {a.Status}");
        foreach (var e in timeline.Events)
        {
            stdout.WriteLine($"  {e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}  {e.Kind,-16} {e.Summary}");
        }

        return 0;
    }

    private static async Task<AuditSource?> OpenAsync(string[] args, IConfiguration configuration, TextWriter stderr, CancellationToken cancellationToken)
    {
        var database = CommandLine.Option(args, "--database")
            ?? (args.Contains("--offline") ? Path.Combine(CliServer.DataDirectory(configuration), "gateway.db") : null);
        if (database is not null)
        {
            if (!File.Exists(database))
            {
                stderr.WriteLine($"audit: no gateway database at {database} (--database FILE, or --ApprovalBot:DataDirectory=DIR with --offline).");
                return null;
            }

            // Brings an older file to this version's schema, exactly as starting the server would.
            var store = new GatewayStore(database);
            await store.MigrateAsync(cancellationToken);
            return new AuditSource(database, store, null);
        }

        var url = CliServer.Url(args, configuration);
        var http = CliServer.Connect("audit", url, args, configuration, TimeSpan.FromMinutes(2), stderr, Offline);
        if (http is null)
        {
            return null;
        }

        return new AuditSource(url, null, http);
    }

    /// <summary>The API's parameter names as this verb spells them.</summary>
    private static string CliNames(string error) =>
        error.StartsWith("from:", StringComparison.Ordinal) ? "--since" + error[4..]
        : error.StartsWith("to:", StringComparison.Ordinal) ? "--until" + error[2..]
        : "--" + error;

    /// <summary>The database or the API, answering the same questions.</summary>
    private sealed class AuditSource(string where, GatewayStore? store, HttpClient? http) : IAsyncDisposable
    {
        public string Where => where;

        public async Task<AuditPage> PageAsync(AuditQuery query, CancellationToken cancellationToken)
        {
            if (store is not null)
            {
                return await store.QueryAuditAsync(query, cancellationToken);
            }

            return (await http!.GetFromJsonAsync<AuditPage>("api/audit" + QueryString(query), AuditExport.Json, cancellationToken))!;
        }

        public async Task<ApprovalTimeline?> TimelineAsync(Guid id, CancellationToken cancellationToken)
        {
            if (store is not null)
            {
                return await ApprovalTimeline.ReadAsync(store, id, cancellationToken);
            }

            using var response = await http!.GetAsync($"api/approvals/{id}/timeline", cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<ApprovalTimeline>(AuditExport.Json, cancellationToken);
        }

        public ValueTask DisposeAsync()
        {
            http?.Dispose();
            return ValueTask.CompletedTask;
        }

        private static string QueryString(AuditQuery q)
        {
            var parts = new List<string>();
            void Add(string name, string? value)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    parts.Add($"{name}={Uri.EscapeDataString(value)}");
                }
            }

            Add("agent", q.Agent);
            Add("tool", q.Tool);
            Add("decision", string.Join(',', q.Decisions));
            Add("approval", q.ApprovalId?.ToString());
            Add("from", q.From?.ToString("O", CultureInfo.InvariantCulture));
            Add("to", q.To?.ToString("O", CultureInfo.InvariantCulture));
            Add("cursor", q.After?.ToString());
            Add("limit", q.Limit.ToString(CultureInfo.InvariantCulture));
            return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
        }
    }
}
