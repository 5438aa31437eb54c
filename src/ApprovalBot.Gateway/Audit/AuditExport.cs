using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Audit;

/// <summary>
/// Audit rows as JSON lines or CSV, the same fields as the API. CSV is RFC 4180: a header line, commas,
/// fields with a comma, quote or line break in double quotes (quotes doubled), CRLF line ends; an
/// empty field is null, a quoted empty field (<c>""</c>) an empty string. Values are written as
/// stored, never altered, so an export reads back to the same rows (spreadsheet users: import as text).
/// </summary>
public static class AuditExport
{
    public const string JsonLines = "jsonl";
    public const string Csv = "csv";

    public static readonly IReadOnlyList<string> Columns =
        ["id", "at", "decision", "agent", "tool", "rule", "reason", "durationMs", "digest", "approvalId", "actor", "channel", "reference", "grantId"];

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static bool IsFormat(string? format) => format is JsonLines or Csv;

    public static string ContentType(string format) => format == Csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";

    /// <summary>Every row matching <paramref name="query"/>, newest first, fetched page by page.</summary>
    public static async IAsyncEnumerable<AuditRecord> ReadAllAsync(
        Func<AuditQuery, CancellationToken, Task<AuditPage>> page, AuditQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var next = query with { Limit = AuditQuery.MaxLimit };
        while (true)
        {
            var result = await page(next, cancellationToken);
            foreach (var row in result.Items)
            {
                yield return row;
            }

            if (result.NextCursor is null || !AuditCursor.TryParse(result.NextCursor, out var cursor))
            {
                yield break;
            }

            next = next with { After = cursor };
        }
    }

    public static IAsyncEnumerable<AuditRecord> ReadAllAsync(GatewayStore store, AuditQuery query, CancellationToken cancellationToken) =>
        ReadAllAsync(store.QueryAuditAsync, query, cancellationToken);

    /// <returns>How many rows were written.</returns>
    public static async Task<long> WriteAsync(IAsyncEnumerable<AuditRecord> rows, string format, TextWriter writer, CancellationToken cancellationToken)
    {
        long count = 0;
        if (format == Csv)
        {
            await writer.WriteAsync(string.Join(',', Columns) + "\r\n");
        }

        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            await writer.WriteAsync(format == Csv ? CsvLine(row) : JsonLine(row) + "\n");
            count++;
        }

        await writer.FlushAsync(cancellationToken);
        return count;
    }

    public static string JsonLine(AuditRecord row) => JsonSerializer.Serialize(row, Json);

    public static string CsvLine(AuditRecord row)
    {
        var fields = new[]
        {
            row.Id.ToString(CultureInfo.InvariantCulture),
            row.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            row.Decision,
            row.Agent,
            row.Tool,
            row.Rule,
            row.Reason,
            row.DurationMs?.ToString("R", CultureInfo.InvariantCulture),
            row.Digest,
            row.ApprovalId?.ToString(),
            row.Actor,
            row.Channel,
            row.Reference,
            row.GrantId?.ToString(),
        };
        var line = new StringBuilder();
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                line.Append(',');
            }

            line.Append(CsvField(fields[i]));
        }

        return line.Append("\r\n").ToString();
    }

    private static string CsvField(string? value)
    {
        if (value is null)
        {
            return "";
        }

        return value.Length == 0 || value.AsSpan().IndexOfAny(",\"\r\n") >= 0
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }
}
