using System.Net;
using System.Text;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// The Microsoft Teams channel, bound from <c>ApprovalBot:Teams</c>. The URLs exist so that tests
/// can point the bot at local fakes of the Bot Framework; in production only the ids, the secret
/// and (optionally) the channel are set.
/// </summary>
public sealed record TeamsOptions
{
    public const string SectionName = "ApprovalBot:Teams";
    public const string DefaultServiceUrl = "https://smba.trafficmanager.net/teams/";
    public const string DefaultOpenIdMetadataUrl = "https://login.botframework.com/v1/.well-known/openidconfiguration";
    public const string DefaultTokenEndpoint = "https://login.microsoftonline.com/{TenantId}/oauth2/v2.0/token";
    public const string TokenEndpointSuffix = "/oauth2/v2.0/token";

    public bool Enabled { get; init; }

    /// <summary>The Azure Bot's Microsoft App ID (client id of its Entra app registration); the audience of inbound tokens.</summary>
    public string? AppId { get; init; }

    /// <summary>A client secret of that app registration. Never logged.</summary>
    public string? AppPassword { get; init; }

    /// <summary>The Entra tenant the bot is registered in (single-tenant) — the only tenant whose users may decide.</summary>
    public string? TenantId { get; init; }

    /// <summary>Connector base URL used until an inbound activity tells the real (regional) one.</summary>
    public string ServiceUrl { get; init; } = DefaultServiceUrl;

    /// <summary>The channel cards are posted into (<c>19:…@thread.tacv2</c>); empty: the channel the bot was installed in.</summary>
    public string? ChannelId { get; init; }

    public string OpenIdMetadataUrl { get; init; } = DefaultOpenIdMetadataUrl;

    /// <summary>Client-credentials endpoint; <c>{TenantId}</c> is replaced by <see cref="TenantId"/>.</summary>
    public string TokenEndpoint { get; init; } = DefaultTokenEndpoint;

    /// <summary><see cref="TokenEndpoint"/> with the tenant filled in.</summary>
    public string ResolvedTokenEndpoint => TokenEndpoint.Replace("{TenantId}", TenantId ?? "", StringComparison.OrdinalIgnoreCase);

    /// <summary>One line per problem, naming the key; never a secret's value. Nothing when Teams is disabled.</summary>
    public IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            yield break;
        }

        const string prefix = SectionName + ":";
        if (string.IsNullOrWhiteSpace(AppId))
        {
            yield return $"{prefix}AppId is required when Teams is enabled (the Azure Bot's Microsoft App ID).";
        }

        if (string.IsNullOrWhiteSpace(AppPassword))
        {
            yield return $"{prefix}AppPassword is required when Teams is enabled (a client secret of the bot's app registration).";
        }

        if (string.IsNullOrWhiteSpace(TenantId))
        {
            yield return $"{prefix}TenantId is required when Teams is enabled (the Entra tenant id of the single-tenant bot).";
        }

        foreach (var problem in CheckUrl(prefix + "ServiceUrl", ServiceUrl))
        {
            yield return problem;
        }

        foreach (var problem in CheckUrl(prefix + "OpenIdMetadataUrl", OpenIdMetadataUrl))
        {
            yield return problem;
        }

        var tokenProblems = CheckUrl(prefix + "TokenEndpoint", ResolvedTokenEndpoint).ToList();
        foreach (var problem in tokenProblems)
        {
            yield return problem;
        }

        if (tokenProblems.Count == 0 && !new Uri(ResolvedTokenEndpoint).AbsolutePath.TrimEnd('/').EndsWith(TokenEndpointSuffix, StringComparison.OrdinalIgnoreCase))
        {
            yield return $"{prefix}TokenEndpoint must end with {TokenEndpointSuffix} (an Entra v2.0 token endpoint).";
        }

        if (!string.IsNullOrWhiteSpace(ChannelId) && !ChannelId.StartsWith("19:", StringComparison.Ordinal))
        {
            yield return $"{prefix}ChannelId must be a Teams channel id (19:…@thread.tacv2).";
        }
    }

    /// <summary>https, or plain http on a loopback address (local fakes in tests).</summary>
    internal static bool IsAcceptableUrl(string? value, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var parsed))
        {
            return false;
        }

        uri = parsed;
        return parsed.Scheme == Uri.UriSchemeHttps || (parsed.Scheme == Uri.UriSchemeHttp && IsLoopback(parsed));
    }

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private static IEnumerable<string> CheckUrl(string key, string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var uri))
        {
            yield return $"{key} must be an absolute URL.";
        }
        else if (!IsAcceptableUrl(value, out _))
        {
            yield return $"{key} must use https (plain http is accepted only for loopback addresses).";
        }
        else if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            yield return $"{key} must not carry user credentials.";
        }
    }

    // Records print every property; keep the secret out of logs and exception messages.
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"Enabled = {Enabled}, AppId = {AppId}, AppPassword = {(string.IsNullOrEmpty(AppPassword) ? "(not set)" : "(set)")}, ");
        builder.Append($"TenantId = {TenantId}, ServiceUrl = {ServiceUrl}, ChannelId = {ChannelId}, OpenIdMetadataUrl = {OpenIdMetadataUrl}, TokenEndpoint = {TokenEndpoint}");
        return true;
    }
}
