using System.Net.Http.Json;
using System.Text.Json;

namespace ApprovalBot.Cli;

/// <summary>
/// <c>approvals list|approve|deny|cancel</c> through the console's JSON API. Finds the server as the server
/// configures itself (Urls, ASPNETCORE_URLS, <c>--urls</c>; the admin token setting or the token file
/// in its data directory); <c>--url</c>, <c>--token</c> or APPROVALBOT_URL/APPROVALBOT_TOKEN override.
/// </summary>
public static class ApprovalCommands
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0)
        {
            stderr.WriteLine(CommandLine.Usage);
            return 2;
        }

        // The same configuration as the server: its Urls and its data directory's token, unless told otherwise.
        var configuration = CliConfiguration.Build(args);
        var url = CliServer.Url(args, configuration);
        using var http = CliServer.Connect("approvals", url, args, configuration, TimeSpan.FromSeconds(30), stderr);
        if (http is null)
        {
            return 2;
        }

        try
        {
            switch (args[0])
            {
                case "list":
                    var status = CommandLine.Option(args, "--status") ?? "pending";
                    var list = await http.GetFromJsonAsync<JsonElement>($"api/approvals?status={Uri.EscapeDataString(status)}");
                    foreach (var a in list.EnumerateArray())
                    {
                        stdout.WriteLine($"{a.GetProperty("id")}  {a.GetProperty("status"),-9} {a.GetProperty("tool")}  agent={a.GetProperty("agent")}  expires={a.GetProperty("expiresAt")}  args={a.GetProperty("arguments")}");
                    }

                    stdout.WriteLine($"{list.GetArrayLength()} approval(s)");
                    return 0;
                // cancel withdraws the request on purpose (POST …/cancel): nothing runs, it ends as Cancelled.
                case "approve" or "deny" or "cancel" when args.Length >= 2:
                    var comment = CommandLine.Option(args, "--comment");
                    if (args[0] == "deny" && string.IsNullOrWhiteSpace(comment))
                    {
                        stderr.WriteLine("approvals deny needs --comment: the agent is told why.");
                        return 2;
                    }

                    // --grant 1h approves for a while: one of the durations the rule offers.
                    var grant = args[0] == "approve" ? CommandLine.Option(args, "--grant") : null;
                    return await CliServer.PostAndReportAsync(http, $"api/approvals/{Uri.EscapeDataString(args[1])}/{args[0]}", new { comment, grant }, stdout, stderr);
                default:
                    stderr.WriteLine(CommandLine.Usage);
                    return 2;
            }
        }
        catch (HttpRequestException e)
        {
            stderr.WriteLine(CliServer.CannotReach("approvals", url, e));
            return 1;
        }
    }
}
