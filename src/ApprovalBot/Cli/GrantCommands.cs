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
        using var http = CliServer.Connect("grants", url, args, configuration, TimeSpan.FromSeconds(30), stderr);
        if (http is null)
        {
            return 2;
        }

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
                    return await CliServer.PostAndReportAsync(http, $"api/grants/{Uri.EscapeDataString(args[1])}/revoke", new { comment }, stdout, stderr);
                default:
                    stderr.WriteLine(CommandLine.Usage);
                    return 2;
            }
        }
        catch (HttpRequestException e)
        {
            stderr.WriteLine(CliServer.CannotReach("grants", url, e));
            return 1;
        }
    }
}
