using System.Globalization;
using System.Text.Json;
using ApprovalBot.Gateway.Audit;
using ApprovalBot.Gateway.Storage;

namespace ApprovalBot.Gateway.Tests.Audit;

/// <summary>
/// 10,000 seeded decisions (out of time order, with many equal timestamps): every filter, paged by
/// cursor, returns exactly the rows LINQ picks from the seed, newest first, without gaps or repeats;
/// both export formats read back to the same rows.
/// </summary>
public sealed class AuditQueryTests : IClassFixture<AuditQueryTests.SeededAudit>
{
    private readonly SeededAudit _seed;

    public AuditQueryTests(SeededAudit seed) => _seed = seed;

    public sealed class SeededAudit : IAsyncLifetime
    {
        public const int Rows = 10_000;
        public static readonly DateTimeOffset Start = new(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "approvalbot-unit", Guid.NewGuid().ToString("n"));

        public GatewayStore Store { get; private set; } = null!;

        /// <summary>The seed as the API must present it, with the ids the database gave (1…n in insertion order).</summary>
        public List<AuditRecord> Expected { get; } = [];

        public List<Guid> Approvals { get; } = [];

        public async Task InitializeAsync()
        {
            Directory.CreateDirectory(_directory);
            Store = new GatewayStore(Path.Combine(_directory, "gateway.db"));
            await Store.MigrateAsync(CancellationToken.None);
            var random = new Random(18);
            for (var i = 0; i < 200; i++)
            {
                Approvals.Add(new Guid(Bytes(random, 16)));
            }

            string[] agents = ["agent-1", "agent-2", "ci-bot", "claude", "anonymous"];
            string[] tools = ["agentwork_cancel_task", "agentwork_list_tasks", "awx_cancel_job", "awx_list_jobs", "gh_merge", "gh_list", "echo", "sum"];
            string[] policy = ["allowed", "allowed", "allowed", "denied", "hidden", "rate_limited", "unknown"];
            string[] lifecycle = ["held", "handed_back", "redeemed", "approved", "denied", "expired", "executed", "card_posted", "approval_counted"];
            string?[] reasons = [null, "", "Cancels a running task; cannot be undone", "a, \"quoted\"\nsecond line", "ünïcödé — ✓", "=SUM(A1)"];
            var entries = new List<AuditEntry>();
            for (var i = 0; i < Rows; i++)
            {
                // Whole minutes over a month: out of insertion order, and thousands of ties on at.
                var at = Start.AddMinutes(random.Next(0, 30 * 24 * 60));
                var onApproval = random.Next(3) == 0;
                var decision = onApproval ? lifecycle[random.Next(lifecycle.Length)] : policy[random.Next(policy.Length)];
                var approval = onApproval ? Approvals[random.Next(Approvals.Count)] : (Guid?)null;
                var entry = new AuditEntry(
                    at, decision, agents[random.Next(agents.Length)], tools[random.Next(tools.Length)],
                    "rules." + tools[random.Next(tools.Length)], reasons[random.Next(reasons.Length)],
                    random.Next(4) == 0 ? null : Math.Round(random.NextDouble() * 1000, 3),
                    Convert.ToHexStringLower(Bytes(random, 32)), approval,
                    onApproval && decision is "approved" or "denied" ? "slack:U" + random.Next(100) : null,
                    onApproval && decision is "approved" or "denied" or "card_posted" ? "slack" : null,
                    decision == "card_posted" ? $"C0APPROVALS|1700{i:000000}.000100" : null);
                entries.Add(entry);
                Expected.Add(new AuditRecord(
                    i + 1, at, AuditDecisions.Present(decision, approval is not null), entry.Agent, entry.Tool, entry.Rule, entry.Reason, entry.DurationMs,
                    entry.Digest, entry.ApprovalId, entry.Actor, entry.Channel, entry.Reference));
            }

            foreach (var batch in entries.Chunk(1000))
            {
                await Store.AppendAuditAsync(batch, CancellationToken.None);
            }
        }

        private static byte[] Bytes(Random random, int count)
        {
            var bytes = new byte[count];
            random.NextBytes(bytes);
            return bytes;
        }

        public Task DisposeAsync()
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }

            return Task.CompletedTask;
        }
    }

    private static IEnumerable<AuditRecord> NewestFirst(IEnumerable<AuditRecord> rows) => rows.OrderByDescending(r => r.At).ThenByDescending(r => r.Id);

    /// <summary>Follows the cursor to the end; checks every page's size on the way.</summary>
    private async Task<List<AuditRecord>> PageAllAsync(AuditQuery query)
    {
        var all = new List<AuditRecord>();
        var pages = 0;
        while (true)
        {
            var page = await _seed.Store.QueryAuditAsync(query, CancellationToken.None);
            pages++;
            Assert.True(page.Items.Count <= query.Limit);
            all.AddRange(page.Items);
            if (page.NextCursor is null)
            {
                break;
            }

            Assert.Equal(query.Limit, page.Items.Count); // only a full page says there is more
            Assert.True(AuditCursor.TryParse(page.NextCursor, out var cursor));
            query = query with { After = cursor };
            Assert.True(pages < 1000, "the cursor does not advance");
        }

        return all;
    }

    private async Task AssertPagesMatch(AuditQuery query, Func<AuditRecord, bool> expected, int minimum)
    {
        var want = NewestFirst(_seed.Expected.Where(expected)).ToList();
        Assert.True(want.Count >= minimum, $"the seed has only {want.Count} rows for this filter");
        var got = await PageAllAsync(query);
        Assert.Equal(want.Select(r => r.Id), got.Select(r => r.Id));
        Assert.Equal(want, got);
    }

    [Fact]
    public async Task Without_filters_every_row_comes_once_newest_first_across_pages()
    {
        await AssertPagesMatch(new AuditQuery { Limit = 700 }, _ => true, SeededAudit.Rows);
    }

    [Fact]
    public async Task Agent_filter()
    {
        await AssertPagesMatch(new AuditQuery { Agent = "ci-bot", Limit = 333 }, r => r.Agent == "ci-bot", 1000);
    }

    [Fact]
    public async Task Tool_filter_within_a_time_window_from_inclusive_to_exclusive()
    {
        // Bounds on the times of seeded rows of that tool: rows at exactly from are in, at exactly to are out.
        var times = _seed.Expected.Where(r => r.Tool == "awx_cancel_job").Select(r => r.At).Order().ToList();
        var from = times[times.Count / 8];
        var to = times[times.Count * 5 / 8];
        await AssertPagesMatch(
            new AuditQuery { Tool = "awx_cancel_job", From = from, To = to, Limit = 100 },
            r => r.Tool == "awx_cancel_job" && r.At >= from && r.At < to,
            200);
    }

    [Fact]
    public async Task Denied_means_by_policy_and_denied_by_human_means_on_an_approval()
    {
        await AssertPagesMatch(new AuditQuery { Decisions = ["denied"], Limit = 250 }, r => r.Decision == "denied", 500);
        await AssertPagesMatch(new AuditQuery { Decisions = [AuditDecisions.DeniedByHuman], Limit = 250 }, r => r.Decision == AuditDecisions.DeniedByHuman, 200);
        var policyDenials = await PageAllAsync(new AuditQuery { Decisions = ["denied"], Limit = 1000 });
        Assert.All(policyDenials, r => Assert.Null(r.ApprovalId));
    }

    [Fact]
    public async Task Several_decisions_combine_with_or_and_other_filters_with_and()
    {
        await AssertPagesMatch(
            new AuditQuery { Decisions = ["approved", "expired", "denied"], Agent = "agent-2", From = SeededAudit.Start.AddDays(10), Limit = 50 },
            r => r.Decision is "approved" or "expired" or "denied" && r.Agent == "agent-2" && r.At >= SeededAudit.Start.AddDays(10),
            100);
    }

    [Fact]
    public async Task Approval_filter_returns_that_approvals_rows_only()
    {
        var approval = _seed.Approvals[7];
        await AssertPagesMatch(new AuditQuery { ApprovalId = approval, Limit = 3 }, r => r.ApprovalId == approval, 5);
        var timeline = await _seed.Store.ReadApprovalAuditAsync(approval, CancellationToken.None);
        Assert.Equal(_seed.Expected.Where(r => r.ApprovalId == approval).OrderBy(r => r.At).ThenBy(r => r.Id), timeline);
    }

    [Fact]
    public async Task A_filter_nothing_matches_is_one_empty_page()
    {
        var page = await _seed.Store.QueryAuditAsync(new AuditQuery { Agent = "nobody" }, CancellationToken.None);
        Assert.Empty(page.Items);
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task Csv_and_json_lines_exports_read_back_to_the_same_rows()
    {
        var query = new AuditQuery { From = SeededAudit.Start.AddDays(5) };
        var expected = NewestFirst(_seed.Expected.Where(r => r.At >= query.From)).ToList();
        Assert.Contains(expected, r => r.Reason == "");
        Assert.Contains(expected, r => r.Reason is null);
        Assert.Contains(expected, r => r.Reason?.Contains('\n') == true);

        using var csv = new StringWriter(CultureInfo.InvariantCulture);
        Assert.Equal(expected.Count, await AuditExport.WriteAsync(AuditExport.ReadAllAsync(_seed.Store, query, CancellationToken.None), AuditExport.Csv, csv, CancellationToken.None));
        var table = CsvReader.Parse(csv.ToString());
        Assert.Equal(AuditExport.Columns, table[0].Select(c => c ?? ""));
        var fromCsv = table.Skip(1).Select(f => new AuditRecord(
            long.Parse(f[0]!, CultureInfo.InvariantCulture),
            DateTimeOffset.Parse(f[1]!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            f[2]!, f[3], f[4], f[5], f[6],
            f[7] is null ? null : double.Parse(f[7]!, CultureInfo.InvariantCulture),
            f[8], f[9] is null ? null : Guid.Parse(f[9]!), f[10], f[11], f[12])).ToList();
        Assert.Equal(expected, fromCsv);

        using var jsonl = new StringWriter(CultureInfo.InvariantCulture);
        await AuditExport.WriteAsync(AuditExport.ReadAllAsync(_seed.Store, query, CancellationToken.None), AuditExport.JsonLines, jsonl, CancellationToken.None);
        var lines = jsonl.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var fromJson = lines.Select(l => JsonSerializer.Deserialize<AuditRecord>(l, new JsonSerializerOptions(JsonSerializerDefaults.Web))!).ToList();
        Assert.Equal(expected, fromJson);
        // Field names are the API's, camelCase, one object per line.
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal(AuditExport.Columns, first.RootElement.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData("bogus", null, null, null, null, "decision: unknown 'bogus'")]
    [InlineData(null, "not-a-guid", null, null, null, "approval:")]
    [InlineData(null, null, "yesterday", null, null, "from:")]
    [InlineData(null, null, null, "!!", null, "cursor:")]
    [InlineData(null, null, null, null, "5000", "limit: must be 1-1000")]
    public void Bad_parameters_are_named(string? decision, string? approval, string? from, string? cursor, string? limit, string message)
    {
        var (query, error) = AuditQuery.Parse(null, null, decision, approval, from, null, cursor, limit);
        Assert.Null(query);
        Assert.StartsWith(message, error);
    }

    [Fact]
    public void A_date_alone_is_midnight_utc_and_a_cursor_round_trips()
    {
        var (query, error) = AuditQuery.Parse(" ci-bot ", null, "approved, denied_by_human", null, "2026-11-01", "2026-12-01T08:00:00+02:00", null, null);
        Assert.Null(error);
        Assert.Equal("ci-bot", query!.Agent);
        Assert.Equal(["approved", "denied_by_human"], query.Decisions);
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), query.From);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero), query.To);
        var cursor = new AuditCursor(1_764_000_000_123, 98765);
        Assert.True(AuditCursor.TryParse(cursor.ToString(), out var back));
        Assert.Equal(cursor, back);
    }
}
