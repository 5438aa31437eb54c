// Minimal reproduction: per-call latency of the MCP C# SDK's HttpClientTransport (Streamable HTTP)
// against the same server and tool called with a raw HttpClient, back to back, same process.
//
//   dotnet run -c Release --project bench/SdkHttpRepro -- http://127.0.0.1:3001/mcp echo '{"message":"hi"}' [calls]
//
// Each variant opens its own session, makes 200 warm-up calls, then `calls` sequential tools/call and
// prints p50/p90/p99 in ms. Variants are interleaved in rounds so machine load hits them alike.
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

var url = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:3001/mcp");
var tool = args.Length > 1 ? args[1] : "echo";
var argumentsJson = args.Length > 2 ? args[2] : """{"message":"hi"}""";
var calls = args.Length > 3 ? int.Parse(args[3]) : 1000;
var rounds = args.Length > 4 ? int.Parse(args[4]) : 3;
var arguments = JsonSerializer.Deserialize<Dictionary<string, object?>>(argumentsJson)!;

var variants = new (string Name, Func<Task<Func<Task>>> Open)[]
{
    ("SDK HttpClientTransport, protocol 2025-11-25", () => OpenSdk("2025-11-25", enableGet: true)),
    ("SDK HttpClientTransport, protocol 2025-11-25, EnableStandaloneGetStream=false", () => OpenSdk("2025-11-25", enableGet: false)),
    ("SDK HttpClientTransport, protocol 2025-06-18", () => OpenSdk("2025-06-18", enableGet: true)),
    ("raw HttpClient, protocol 2025-11-25", () => OpenRaw("2025-11-25")),
    ("raw HttpClient, protocol 2025-06-18", () => OpenRaw("2025-06-18")),
};

var samples = variants.Select(_ => new List<double>()).ToArray();
var cpu = new double[variants.Length];
var allocated = new long[variants.Length];
var switches = new long[variants.Length];
for (var round = 0; round < rounds; round++)
{
    for (var v = 0; v < variants.Length; v++)
    {
        var call = await variants[v].Open();
        for (var i = 0; i < 200; i++)
        {
            await call();
        }

        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        var switches0 = ContextSwitches();
        for (var i = 0; i < calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            samples[v].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        cpu[v] += (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds;
        allocated[v] += GC.GetTotalAllocatedBytes(precise: true) - allocated0;
        switches[v] += ContextSwitches() - switches0;
    }
}

Console.WriteLine($"{tool} on {url}, {rounds} rounds x {calls} calls per variant");
Console.WriteLine("| client | p50 ms | p90 ms | p99 ms | CPU ms/call | allocated B/call | context switches/call |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
for (var v = 0; v < variants.Length; v++)
{
    var s = samples[v].Order().ToArray();
    var n = (double)rounds * calls;
    Console.WriteLine($"| {variants[v].Name} | {At(s, 0.5):F3} | {At(s, 0.9):F3} | {At(s, 0.99):F3} | {cpu[v] / n:F3} | {allocated[v] / n:F0} | {switches[v] / n:F1} |");
}

return;

// Voluntary and involuntary context switches of every thread of this process (Linux).
static long ContextSwitches() =>
    Directory.Exists("/proc/self/task")
        ? Directory.GetDirectories("/proc/self/task").Sum(t =>
            File.ReadLines(Path.Combine(t, "status")).Where(l => l.Contains("ctxt_switches")).Sum(l => long.Parse(l.Split(':')[1].Trim())))
        : 0;

static double At(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

async Task<Func<Task>> OpenSdk(string protocolVersion, bool enableGet)
{
    var transport = new HttpClientTransport(new HttpClientTransportOptions
    {
        Endpoint = url,
        TransportMode = HttpTransportMode.StreamableHttp,
        EnableStandaloneGetStream = enableGet,
    });
    var client = await McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = protocolVersion });
    return async () => await client.CallToolAsync(tool, arguments);
}

async Task<Func<Task>> OpenRaw(string protocolVersion)
{
    var http = new HttpClient();
    string? session = null;
    long id = 0;
    async Task<string> Post(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (session is not null)
        {
            request.Headers.Add("Mcp-Session-Id", session);
            request.Headers.Add("MCP-Protocol-Version", protocolVersion);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK && response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"HTTP {(int)response.StatusCode}");
        }

        session ??= response.Headers.TryGetValues("Mcp-Session-Id", out var values) ? values.First() : null;
        return await response.Content.ReadAsStringAsync();
    }

    await Post($$$$"""{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"{{{{protocolVersion}}}}","capabilities":{},"clientInfo":{"name":"repro","version":"1"}}}""");
    await Post("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
    return async () =>
    {
        var body = await Post($$$"""{"jsonrpc":"2.0","id":{{{++id}}},"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{{{argumentsJson}}}}}""");
        if (!body.Contains("\"result\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException(body);
        }
    };
}
