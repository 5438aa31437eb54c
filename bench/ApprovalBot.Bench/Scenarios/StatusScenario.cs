using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ApprovalBot.Bench.Infrastructure;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Core.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bench.Scenarios;

public sealed record StatusResult(
    string Description,
    int Approvals,
    int Pending,
    int ResolvedToday,
    int ResolvedEarlier,
    double FillSeconds,
    Latency SlackPolicyStatus,
    Latency ConsolePendingList,
    string SampleReply);

/// <summary>
/// Scenario 5: <c>/policy status</c> with many approvals in the bot's database. The bot runs as its
/// own process (role bot, RabbitMQ, Slack enabled in HTTP mode with a local fake Web API); the
/// bench signs each slash command with the configured signing secret, exactly as Slack would, and
/// times <c>POST /slack/commands</c> until the Block Kit reply is complete. The console API's
/// <c>GET /api/approvals?status=pending&amp;limit=10</c> is timed too, on the same database.
/// </summary>
public sealed class StatusScenario(BenchContext context)
{
    private const string SigningSecret = "bench-signing-secret-0123456789abcdef";

    public async Task<StatusResult> RunAsync()
    {
        var total = context.Smoke ? 1_000 : 100_000;
        var pending = total / 100;
        var today = total / 5;
        var requests = context.Smoke ? 20 : 200;

        await using var slack = await StartFakeSlackAsync();
        var name = "status-bot";
        string[] settings =
        [
            "--ApprovalBot:Role=bot",
            .. Targets.RabbitMq(context),
            $"--ApprovalBot:Bus:BotInstanceId=bench-status-{Targets.RandomSuffix()}",
            "--ApprovalBot:Slack:Enabled=true",
            "--ApprovalBot:Slack:BotToken=xoxb-bench-token",
            $"--ApprovalBot:Slack:SigningSecret={SigningSecret}",
            "--ApprovalBot:Slack:Channel=C0BENCH0001",
            $"--ApprovalBot:Slack:ApiBaseUrl={slack.Urls.First()}/api/",
        ];

        // First start creates bot.db with its migrations; stop; fill it; start again.
        var (first, _) = await Targets.StartApprovalBotAsync(context, name, ApprovalCluster.Policy, settings);
        await first.DisposeAsync();
        var database = Path.Combine(context.WorkDirectory, name, "bot.db");
        var fill = System.Diagnostics.Stopwatch.StartNew();
        Fill(database, total, pending, today);
        var fillSeconds = fill.Elapsed.TotalSeconds;
        context.Log($"status: bot.db filled with {total} approvals ({pending} pending, {today} resolved today) in {fillSeconds:F1} s");

        var (bot, botUrl) = await Targets.StartApprovalBotAsync(context, name + "-filled", ApprovalCluster.Policy, settings, Path.Combine(context.WorkDirectory, name));
        await using (bot)
        {
            using var http = new HttpClient { BaseAddress = botUrl, Timeout = TimeSpan.FromSeconds(30) };
            var slackTimes = new List<double>();
            var consoleTimes = new List<double>();
            var sample = "";
            for (var i = 0; i < requests + 10; i++)
            {
                var t = Clock.Now;
                var reply = await PolicyStatusAsync(http);
                var ms = Clock.Milliseconds(t, Clock.Now);
                if (!reply.Contains($"{pending}", StringComparison.Ordinal))
                {
                    context.Fail($"status: the /policy status reply does not show {pending} pending: {reply[..Math.Min(400, reply.Length)]}");
                    break;
                }

                sample = reply;
                if (i >= 10)
                {
                    slackTimes.Add(ms);
                }
            }

            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Targets.AdminToken);
            for (var i = 0; i < requests + 10; i++)
            {
                var t = Clock.Now;
                using var response = await http.GetAsync("/api/approvals?status=pending&limit=10");
                var body = await response.Content.ReadAsStringAsync();
                var ms = Clock.Milliseconds(t, Clock.Now);
                if (!response.IsSuccessStatusCode || JsonSerializer.Deserialize<JsonElement>(body).GetArrayLength() != 10)
                {
                    context.Fail($"status: console list answered {(int)response.StatusCode} {body[..Math.Min(300, body.Length)]}");
                    break;
                }

                if (i >= 10)
                {
                    consoleTimes.Add(ms);
                }
            }

            var result = new StatusResult(
                "ms for the bot to answer a signed /policy status slash command (inline Block Kit reply), and the console's pending list, with this many approvals in bot.db",
                total,
                pending,
                today,
                total - pending - today,
                fillSeconds,
                Latency.FromMilliseconds(slackTimes),
                Latency.FromMilliseconds(consoleTimes),
                sample.Length > 600 ? sample[..600] + "…" : sample);
            context.Log($"status: /policy status p50 {result.SlackPolicyStatus.P50:F2} ms p99 {result.SlackPolicyStatus.P99:F2} ms; console list p50 {result.ConsolePendingList.P50:F2} ms");
            await context.WriteResultAsync("status", result);
            return result;
        }
    }

    private static async Task<string> PolicyStatusAsync(HttpClient http)
    {
        var body = Encoding.UTF8.GetBytes("token=unused&team_id=T0BENCH&channel_id=C0BENCH0001&user_id=U0BENCH&user_name=bench&command=%2Fpolicy&text=status&response_url=http%3A%2F%2F127.0.0.1%2Funused&trigger_id=1.2.3");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/slack/commands") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.Add(SlackSignature.TimestampHeader, timestamp);
        request.Headers.Add(SlackSignature.SignatureHeader, SlackSignature.Compute(SigningSecret, timestamp, body));
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? text : $"HTTP {(int)response.StatusCode} {text}";
    }

    /// <summary>Rows as the bot's own consumer writes them (same columns, the request serialized the same way).</summary>
    private static void Fill(string database, int total, int pending, int today)
    {
        var now = DateTimeOffset.UtcNow;
        var midnight = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var sinceMidnight = Math.Max(1, (long)(now - midnight).TotalMilliseconds - 1000);
        var random = new Random(7);
        string[] finals = ["Approved", "Denied", "Expired", "Cancelled"];
        using var connection = new SqliteConnection($"Data Source={database}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO approvals (id, request, tool, status, requested_at, expires_at, decided_by, comment, resolved_at, succeeded, execution_summary)
            VALUES ($id, $request, $tool, $status, $requested, $expires, $by, $comment, $resolved, $succeeded, $summary)
            """;
        var p = new Dictionary<string, SqliteParameter>();
        foreach (var name in new[] { "$id", "$request", "$tool", "$status", "$requested", "$expires", "$by", "$comment", "$resolved", "$succeeded", "$summary" })
        {
            p[name] = insert.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        var approver = JsonSerializer.Serialize(new Approver("slack", "U0BENCH", "Bench Approver"));
        for (var i = 0; i < total; i++)
        {
            var kind = i < pending ? 0 : i < pending + today ? 1 : 2;
            var resolvedAt = kind switch
            {
                0 => (DateTimeOffset?)null,
                1 => midnight.AddMilliseconds(random.NextInt64(0, sinceMidnight)),
                _ => midnight.AddMinutes(-random.Next(1, 60 * 24 * 30)),
            };
            var requestedAt = kind == 0 ? now.AddMinutes(-random.Next(1, 600)) : resolvedAt!.Value.AddMinutes(-random.Next(1, 30));
            var tool = i % 3 == 0 ? "agentwork_cancel_task" : i % 3 == 1 ? "awx_cancel_job" : "awx_delete_inventory";
            var request = new ApprovalRequested(
                Guid.NewGuid(), tool, tool.Split('_')[0], "agent-" + (i % 20), $$"""{"task_id":"T-{{i}}","api_key":"[redacted]"}""",
                Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))), "Cancels a running task; cannot be undone",
                ["slack:U024BE7LH", "console:admin"], 1, requestedAt, requestedAt.AddMinutes(15),
                new Uri("rabbitmq://127.0.0.1/bench/approvalbot-gateway-bench"), "bench-gw");
            var status = kind == 0 ? "Pending" : finals[random.Next(finals.Length)];
            p["$id"].Value = request.ApprovalId.ToString();
            p["$request"].Value = JsonSerializer.Serialize(request);
            p["$tool"].Value = tool;
            p["$status"].Value = status;
            p["$requested"].Value = requestedAt.ToUnixTimeMilliseconds();
            p["$expires"].Value = request.ExpiresAt.ToUnixTimeMilliseconds();
            p["$by"].Value = kind == 0 || status is "Expired" or "Cancelled" ? DBNull.Value : approver;
            p["$comment"].Value = kind == 0 ? DBNull.Value : "bench";
            p["$resolved"].Value = resolvedAt is { } r ? r.ToUnixTimeMilliseconds() : DBNull.Value;
            p["$succeeded"].Value = status == "Approved" ? 1 : DBNull.Value;
            p["$summary"].Value = status == "Approved" ? "succeeded" : DBNull.Value;
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>A stand-in for Slack's Web API: every method answers ok.</summary>
    private static async Task<WebApplication> StartFakeSlackAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Path.GetTempPath() });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{ChildProcess.FreePort()}");
        var app = builder.Build();
        app.MapPost("/api/{method}", (string method) => Results.Json(new { ok = true, channel = "C0BENCH0001", ts = "1700000000.000100" }));
        await app.StartAsync();
        return app;
    }
}
