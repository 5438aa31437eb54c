namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Configuration section <c>ApprovalBot:Slack</c>. HTTP mode needs <see cref="BotToken"/>,
/// <see cref="SigningSecret"/> and <see cref="Channel"/>; Socket Mode adds <see cref="AppToken"/>
/// and then needs no signing secret (nothing reaches the HTTP endpoints).
/// </summary>
public sealed record SlackOptions
{
    public const string SectionPath = "ApprovalBot:Slack";

    public const string DefaultApiBaseUrl = "https://slack.com/api/";

    public bool Enabled { get; init; }

    /// <summary>Bot user OAuth token, <c>xoxb-…</c> (scopes chat:write, commands).</summary>
    public string? BotToken { get; init; }

    /// <summary>Signs every request Slack sends to <c>/slack/*</c> (HTTP mode).</summary>
    public string? SigningSecret { get; init; }

    /// <summary>App-level token, <c>xapp-…</c> with connections:write; when set, Socket Mode is used.</summary>
    public string? AppToken { get; init; }

    /// <summary>The id of the channel the cards are posted to (e.g. C0123456789); the bot must be a member.</summary>
    public string? Channel { get; init; }

    /// <summary>Workspace (team) ids whose members may decide; empty allows any workspace the app is in.</summary>
    public string[] TeamIds { get; init; } = [];

    /// <summary>Slack Web API root; tests point it at a local fake.</summary>
    public string ApiBaseUrl { get; init; } = DefaultApiBaseUrl;

    public bool SocketMode => !string.IsNullOrWhiteSpace(AppToken);

    /// <summary>One line per problem, naming the key; never a secret value.</summary>
    public IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(BotToken))
        {
            yield return $"{SectionPath}:BotToken is required when Slack is enabled (the bot token, xoxb-…).";
        }
        else if (BotToken.StartsWith("xapp-", StringComparison.Ordinal))
        {
            yield return $"{SectionPath}:BotToken holds an app-level token (xapp-…); put the bot token (xoxb-…) there and the app-level token in {SectionPath}:AppToken.";
        }

        if (string.IsNullOrWhiteSpace(Channel))
        {
            yield return $"{SectionPath}:Channel is required when Slack is enabled (the id of the channel for approval cards, e.g. C0123456789).";
        }

        if (SocketMode)
        {
            if (!AppToken!.StartsWith("xapp-", StringComparison.Ordinal))
            {
                yield return $"{SectionPath}:AppToken must be an app-level token (it starts with xapp-) with the connections:write scope.";
            }
        }
        else if (string.IsNullOrWhiteSpace(SigningSecret))
        {
            yield return $"{SectionPath}:SigningSecret is required when Slack is enabled (HTTP mode); set it, or set {SectionPath}:AppToken to use Socket Mode.";
        }

        if (!Uri.TryCreate(ApiBaseUrl, UriKind.Absolute, out var api) || (api.Scheme != Uri.UriSchemeHttps && api.Scheme != Uri.UriSchemeHttp))
        {
            yield return $"{SectionPath}:ApiBaseUrl must be an absolute http(s) URL (default {DefaultApiBaseUrl}).";
        }
    }

    /// <summary><see cref="ApiBaseUrl"/> with a trailing slash, so relative method names resolve under it.</summary>
    internal Uri ApiBaseUri()
    {
        var text = string.IsNullOrWhiteSpace(ApiBaseUrl) ? DefaultApiBaseUrl : ApiBaseUrl.Trim();
        return new Uri(text.EndsWith('/') ? text : text + "/", UriKind.Absolute);
    }
}
