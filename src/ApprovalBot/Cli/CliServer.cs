using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

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

    /// <summary>
    /// A client for the server's API at <paramref name="url"/> that sends the admin token, or null after telling
    /// <paramref name="stderr"/> how to supply one. <paramref name="alternative"/> is one more way
    /// out the verb offers (audit: reading the database), named in this and in <see cref="CannotReach"/>.
    /// </summary>
    public static HttpClient? Connect(string verb, string url, string[] args, IConfiguration configuration, TimeSpan timeout, TextWriter stderr, string? alternative = null)
    {
        var token = Token(args, configuration);
        if (string.IsNullOrEmpty(token))
        {
            var dataDirectory = $"run with the server's data directory ({TokenFile(configuration)} does not exist)";
            stderr.WriteLine(alternative is null
                ? $"{verb}: no admin token: pass --token, set APPROVALBOT_TOKEN or ApprovalBot:Console:AdminToken, or {dataDirectory}."
                : $"{verb}: no admin token: pass --token, set APPROVALBOT_TOKEN or ApprovalBot:Console:AdminToken, {dataDirectory}, or {alternative}.");
            return null;
        }

        var http = new HttpClient { BaseAddress = new Uri(url.TrimEnd('/') + "/"), Timeout = timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>The one line for a server that did not answer at all.</summary>
    public static string CannotReach(string verb, string url, HttpRequestException e, string? alternative = null) =>
        $"{verb}: cannot reach the server at {url} ({e.Message}). Is it running there? Point at it with --url URL{(alternative is null ? "" : ", or " + alternative)}.";

    /// <summary>
    /// Posts an action and prints the server's <c>message</c> (or the status's reason phrase):
    /// stdout and 0 when it succeeded, stderr and 1 when not.
    /// </summary>
    public static async Task<int> PostAndReportAsync(HttpClient http, string path, object body, TextWriter stdout, TextWriter stderr)
    {
        var response = await http.PostAsJsonAsync(path, body);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        var message = answer.TryGetProperty("message", out var m) ? m.GetString() : response.ReasonPhrase;
        (response.IsSuccessStatusCode ? stdout : stderr).WriteLine(message);
        return response.IsSuccessStatusCode ? 0 : 1;
    }

    /// <summary>The server's data directory, relative to the working directory as the server resolves it.</summary>
    public static string DataDirectory(IConfiguration configuration) =>
        Path.GetFullPath(NonEmpty(configuration["ApprovalBot:DataDirectory"]) ?? "data", Directory.GetCurrentDirectory());

    /// <summary>Where the server keeps a generated admin token.</summary>
    public static string TokenFile(IConfiguration configuration) => Path.Combine(DataDirectory(configuration), "console.token");

    private static string? ReadToken(string file) => File.Exists(file) ? NonEmpty(File.ReadAllText(file).Trim()) : null;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
