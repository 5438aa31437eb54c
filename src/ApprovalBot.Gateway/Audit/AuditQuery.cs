using System.Globalization;
using System.Text;

namespace ApprovalBot.Gateway.Audit;

/// <summary>
/// Filters of the audit API and CLI. Every filter is optional and they combine with AND; several
/// decisions combine with OR. <see cref="From"/> is inclusive, <see cref="To"/> exclusive.
/// </summary>
public sealed record AuditQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public string? Agent { get; init; }
    public string? Tool { get; init; }
    public IReadOnlyList<string> Decisions { get; init; } = [];
    public Guid? ApprovalId { get; init; }
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }

    /// <summary>Rows older than this position (the previous page's last row).</summary>
    public AuditCursor? After { get; init; }

    public int Limit { get; init; } = DefaultLimit;

    /// <summary>
    /// Parses the API's query string values; every problem is one sentence naming the parameter.
    /// </summary>
    public static (AuditQuery? Query, string? Error) Parse(
        string? agent, string? tool, string? decision, string? approval, string? from, string? to, string? cursor, string? limit)
    {
        var decisions = (decision ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = decisions.FirstOrDefault(d => !AuditDecisions.All.Contains(d));
        if (unknown is not null)
        {
            return (null, $"decision: unknown '{unknown}'. Known: {string.Join(", ", AuditDecisions.Enforcement.Concat(AuditDecisions.Lifecycle))}.");
        }

        Guid? approvalId = null;
        if (!string.IsNullOrWhiteSpace(approval))
        {
            if (!Guid.TryParse(approval, out var id))
            {
                return (null, $"approval: '{approval}' is not an approval id.");
            }

            approvalId = id;
        }

        if (!TryParseTime(from, out var fromTime))
        {
            return (null, $"from: '{from}' is not a date or time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T08:00:00Z).");
        }

        if (!TryParseTime(to, out var toTime))
        {
            return (null, $"to: '{to}' is not a date or time (ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00:00Z).");
        }

        AuditCursor? after = null;
        if (!string.IsNullOrWhiteSpace(cursor))
        {
            if (!AuditCursor.TryParse(cursor, out var parsed))
            {
                return (null, "cursor: not a cursor this API returned.");
            }

            after = parsed;
        }

        var size = DefaultLimit;
        if (!string.IsNullOrWhiteSpace(limit) && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxLimit))
        {
            return (null, $"limit: must be 1-{MaxLimit}.");
        }

        return (new AuditQuery
        {
            Agent = NullIfEmpty(agent),
            Tool = NullIfEmpty(tool),
            Decisions = decisions,
            ApprovalId = approvalId,
            From = fromTime,
            To = toTime,
            After = after,
            Limit = size,
        }, null);
    }

    /// <summary>ISO 8601; a date alone is midnight UTC, a time without offset is UTC.</summary>
    public static bool TryParseTime(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            value = parsed;
            return true;
        }

        return false;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>A position in the newest-first order: (at, id) of the last row of a page. Opaque to callers.</summary>
public sealed record AuditCursor(long AtMilliseconds, long Id)
{
    public override string ToString() =>
        Convert.ToBase64String(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{AtMilliseconds}:{Id}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryParse(string text, out AuditCursor? cursor)
    {
        cursor = null;
        try
        {
            var base64 = text.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var parts = Encoding.ASCII.GetString(Convert.FromBase64String(base64)).Split(':');
            if (parts.Length == 2
                && long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var at)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                cursor = new AuditCursor(at, id);
                return true;
            }
        }
        catch (FormatException)
        {
        }

        return false;
    }
}
