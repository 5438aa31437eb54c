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

        return await RunAsync(start, cancellationToken);
    }

    /// <summary>Runs tests/node/mcp-stdio.mjs: the TypeScript SDK client launches <paramref name="command"/> as its server over stdio.</summary>
    public static async Task<JsonObject> RunStdioAsync(string command, IEnumerable<string> args, string workingDirectory, object steps, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = RepoPaths.NodeTools, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("mcp-stdio.mjs");
        start.ArgumentList.Add(JsonSerializer.Serialize(new { command, args, cwd = workingDirectory, steps }));
        return await RunAsync(start, cancellationToken);
    }

    private static async Task<JsonObject> RunAsync(ProcessStartInfo start, CancellationToken cancellationToken)
    {
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // Given up on (or past its 90 s): the client does not outlive the test.
            process.Kill(entireProcessTree: true);
            throw;
        }

        var text = await stdout;
        return JsonNode.Parse(text) as JsonObject ?? throw new InvalidOperationException($"node client printed no JSON; stderr: {await stderr}");
    }
}
