namespace ApprovalBot.Cli;

/// <summary>
/// Where CLI verbs find a running server and its admin token: as the server configures itself
/// (Urls, ASPNETCORE_URLS, <c>--urls</c>; the admin token setting or the token file in its data
/// directory); <c>--url</c>, <c>--token</c> or APPROVALBOT_URL/APPROVALBOT_TOKEN override.
/// </summary>
internal static class CliServer
{
    public static string Url(string[] args, IConfiguration configuration) =>
        CommandLine.Option(args, "--url") ?? Environment.GetEnvironmentVariable("APPROVALBOT_URL") ?? CliConfiguration.ServerUrl(configuration);

    public static string? Token(string[] args, IConfiguration configuration) =>
        CommandLine.Option(args, "--token") ?? Environment.GetEnvironmentVariable("APPROVALBOT_TOKEN")
            ?? NonEmpty(configuration["ApprovalBot:Console:AdminToken"]) ?? ReadToken(TokenFile(configuration));

    /// <summary>The server's data directory, relative to the working directory as the server resolves it.</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        Path.GetFullPath(NonEmpty(configuration["ApprovalBot:DataDirectory"]) ?? "data", Directory.GetCurrentDirectory());

    /// <summary>Where the server keeps a generated admin token.</summary>
    public static string TokenFile(IConfiguration configuration) => Path.Combine(DataDirectory(configuration), "console.token");

    private static string? ReadToken(string file) => File.Exists(file) ? NonEmpty(File.ReadAllText(file).Trim()) : null;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
