using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>Runs the TypeScript SDK client (tests/node/mcp-call.mjs) against a URL and returns its JSON report.</summary>
public static class NodeMcpClient
{
    public static async Task<JsonObject> RunAsync(Uri url, object steps, string? bearer, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = RepoPaths.NodeTools, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("mcp-call.mjs");
        start.ArgumentList.Add(url.ToString());
        start.ArgumentList.Add(JsonSerializer.Serialize(steps));
        if (bearer is not null)
        {
            start.ArgumentList.Add(bearer);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        var text = await stdout;
        return JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"node client printed no JSON; stderr: {await stderr}");
    }
}
