using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace ApprovalBot.Cli;

/// <summary>
/// <c>grants list|revoke</c> through the console's JSON API, finding the server and its token as
/// <c>approvals</c> does (<see cref="CliServer"/>).
/// </summary>
public static class GrantCommands
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            stderr.WriteLine(CommandLine.Usage);
            return 2;
        }

        var configuration = CliConfiguration.Build(args);
        var url = CliServer.Url(args, configuration);
        var token = CliServer.Token(args, configuration);
        if (string.IsNullOrEmpty(token))
        {
            stderr.WriteLine($"grants: no admin token: pass --token, set APPROVALBOT_TOKEN or ApprovalBot:Console:AdminToken, or run with the server's data directory ({CliServer.TokenFile(configuration)} does not exist).");
            return 2;
        }

        using var http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            switch (args[0])
            {
                case "list":
                    var status = CommandLine.Option(args, "--status") ?? "active";
                    var list = await http.GetFromJsonAsync<JsonElement>($"api/grants?status={Uri.EscapeDataString(status)}");
                    foreach (var g in list.EnumerateArray())
                    {
                        stdout.WriteLine($"{g.GetProperty("id")}  {g.GetProperty("state")}  {g.GetProperty("tool")}  agent={g.GetProperty("agent")}  scope={g.GetProperty("scope")}  until={g.GetProperty("expiresAt")}  by={g.GetProperty("grantedByPrincipal")}");
                    }

                    stdout.WriteLine($"{list.GetArrayLength()} grant(s)");
                    return 0;
                case "revoke" when args.Length >= 2:
                    var comment = CommandLine.Option(args, "--comment");
                    var response = await http.PostAsJsonAsync($"api/grants/{Uri.EscapeDataString(args[1])}/revoke", new { comment });
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                    var message = body.TryGetProperty("message", out var m) ? m.GetString() : response.ReasonPhrase;
                    (response.IsSuccessStatusCode ? stdout : stderr).WriteLine(message);
                    return response.IsSuccessStatusCode ? 0 : 1;
                default:
                    stderr.WriteLine(CommandLine.Usage);
                    return 2;
            }
        }
        catch (HttpRequestException e)
        {
            stderr.WriteLine($"grants: cannot reach the server at {url} ({e.Message}). Is it running there? Point at it with --url URL.");
            return 1;
        }
    }
}
