using System.Net;
using System.Text;

namespace ApprovalBot.Bot.Teams;

/// <summary>How the bot's app identity is registered; decides where the bot's own Connector token comes from.</summary>
public enum TeamsAppType
{
    /// <summary>An app registration of one Entra tenant with a client secret (what Azure creates today).</summary>
    SingleTenant,

    /// <summary>A legacy multi-tenant app registration with a client secret; its token comes from the <c>botframework.com</c> tenant.</summary>
    MultiTenant,

    /// <summary>A user-assigned managed identity of the Azure resource the bot runs on; no secret.</summary>
    UserAssignedMSI,
}

/// <summary>
/// The Microsoft Teams channel, bound from <c>ApprovalBot:Teams</c>. The URLs exist so that tests
/// can point the bot at local fakes of the Bot Framework and of Entra; in production only the ids,
/// the app type, the secret (or managed identity) and (optionally) the channel are set.
/// </summary>
public sealed record TeamsOptions
{
    public const string SectionPath = "ApprovalBot:Teams";
    public const string DefaultServiceUrl = "https://smba.trafficmanager.net/teams/";
    public const string DefaultOpenIdMetadataUrl = "https://login.botframework.com/v1/.well-known/openidconfiguration";
    public const string DefaultTenantOpenIdMetadataUrl = "https://login.microsoftonline.com/{TenantId}/v2.0/.well-known/openid-configuration";
    public const string DefaultTokenEndpoint = "https://login.microsoftonline.com/{TenantId}/oauth2/v2.0/token";
    public const string TokenEndpointSuffix = "/oauth2/v2.0/token";

    /// <summary>The tenant whose token endpoint serves legacy multi-tenant bots.</summary>
    public const string MultiTenantAuthorityTenant = "botframework.com";

    public bool Enabled { get; init; }

    /// <summary>
    /// <c>SingleTenant</c> (default), <c>MultiTenant</c> or <c>UserAssignedMSI</c>, as the Azure Bot
    /// resource shows it (Configuration → Type of App). A string, not the enum, so that a typo is
    /// reported by <see cref="Validate"/> as one line instead of failing the configuration binder.
    /// </summary>
    public string AppType { get; init; } = nameof(TeamsAppType.SingleTenant);

    /// <summary>The Azure Bot's Microsoft App ID (client id of its Entra app registration or managed identity); the audience of inbound tokens.</summary>
    public string? AppId { get; init; }

    /// <summary>A client secret of that app registration (SingleTenant, MultiTenant). Never logged.</summary>
    public string? AppPassword { get; init; }

    /// <summary>The Entra tenant the bot is registered in — the only tenant whose users may decide, and the issuer of Entra-issued inbound tokens.</summary>
    public string? TenantId { get; init; }

    /// <summary>UserAssignedMSI: the client id of the user-assigned managed identity; empty means <see cref="AppId"/> (Azure Bot uses the identity's client id as the app id).</summary>
    public string? ManagedIdentityClientId { get; init; }

    /// <summary>Connector base URL used until an inbound activity tells the real (regional) one.</summary>
    public string ServiceUrl { get; init; } = DefaultServiceUrl;

    /// <summary>The channel cards are posted into (<c>19:…@thread.tacv2</c>); empty: the channel the bot was installed in.</summary>
    public string? ChannelId { get; init; }

    /// <summary>OpenID metadata of the Bot Framework (issuer <c>https://api.botframework.com</c>); its JWKS carries channel endorsements.</summary>
    public string OpenIdMetadataUrl { get; init; } = DefaultOpenIdMetadataUrl;

    /// <summary>OpenID metadata of the bot's Entra tenant (issuers <c>https://sts.windows.net/{tid}/</c> and <c>https://login.microsoftonline.com/{tid}/v2.0</c>); <c>{TenantId}</c> is filled in.</summary>
    public string TenantOpenIdMetadataUrl { get; init; } = DefaultTenantOpenIdMetadataUrl;

    /// <summary>Client-credentials endpoint (SingleTenant, MultiTenant); <c>{TenantId}</c> is replaced by the tenant of the app type's authority.</summary>
    public string TokenEndpoint { get; init; } = DefaultTokenEndpoint;

    /// <summary>
    /// UserAssignedMSI, tests only: a loopback URL that stands in for the Azure Instance Metadata
    /// Service. Empty (production): MSAL finds the managed identity endpoint of the host itself.
    /// </summary>
    public string? ManagedIdentityEndpoint { get; init; }

    /// <summary><see cref="AppType"/> parsed; SingleTenant when it does not parse (start-up validation refuses that case).</summary>
    public TeamsAppType ParsedAppType => TryParseAppType(AppType, out var type) ? type : TeamsAppType.SingleTenant;

    /// <summary>
    /// The tenant of the outbound token's authority: the bot's own tenant, except for a legacy
    /// multi-tenant bot, whose token comes from <c>botframework.com</c>.
    /// </summary>
    public string AuthorityTenant => ParsedAppType == TeamsAppType.MultiTenant ? MultiTenantAuthorityTenant : TenantId ?? "";

    /// <summary><see cref="TokenEndpoint"/> with the authority's tenant filled in.</summary>
    public string ResolvedTokenEndpoint => FillTenant(TokenEndpoint, AuthorityTenant);

    /// <summary><see cref="TenantOpenIdMetadataUrl"/> with <see cref="TenantId"/> filled in.</summary>
    public string ResolvedTenantOpenIdMetadataUrl => FillTenant(TenantOpenIdMetadataUrl, TenantId ?? "");

    /// <summary>The managed identity that signs in (UserAssignedMSI).</summary>
    public string? ResolvedManagedIdentityClientId => string.IsNullOrWhiteSpace(ManagedIdentityClientId) ? AppId : ManagedIdentityClientId;

    /// <summary>Whether <paramref name="tenantId"/> is the configured tenant, the only one whose users may act.</summary>
    internal bool IsOwnTenant(string? tenantId) =>
        !string.IsNullOrEmpty(tenantId) && string.Equals(tenantId, TenantId, StringComparison.OrdinalIgnoreCase);

    /// <summary>One line per problem, naming the key; never a secret's value. Nothing when Teams is disabled.</summary>
    public IEnumerable<string> Validate()
    {
        if (!Enabled)
        {
            yield break;
        }

        const string prefix = SectionPath + ":";
        if (!TryParseAppType(AppType, out var appType))
        {
            yield return $"{prefix}AppType must be SingleTenant, MultiTenant or UserAssignedMSI (got '{AppType}'); use the Type of App shown on the Azure Bot resource's Configuration page.";
            yield break; // every other rule depends on the app type
        }

        if (string.IsNullOrWhiteSpace(AppId))
        {
            yield return appType == TeamsAppType.UserAssignedMSI
                ? $"{prefix}AppId is required when Teams is enabled (the Azure Bot's Microsoft App ID, which for UserAssignedMSI is the managed identity's client id)."
                : $"{prefix}AppId is required when Teams is enabled (the Azure Bot's Microsoft App ID).";
        }

        if (appType == TeamsAppType.UserAssignedMSI)
        {
            if (!string.IsNullOrEmpty(AppPassword))
            {
                yield return $"{prefix}AppPassword must be empty when AppType is UserAssignedMSI (the managed identity signs in; there is no client secret).";
            }
        }
        else
        {
            if (string.IsNullOrWhiteSpace(AppPassword))
            {
                yield return $"{prefix}AppPassword is required when AppType is {appType} (a client secret of the bot's app registration).";
            }

            if (!string.IsNullOrWhiteSpace(ManagedIdentityClientId) || !string.IsNullOrWhiteSpace(ManagedIdentityEndpoint))
            {
                yield return $"{prefix}ManagedIdentityClientId and ManagedIdentityEndpoint are used only when AppType is UserAssignedMSI (AppType is {appType}).";
            }
        }

        if (string.IsNullOrWhiteSpace(TenantId))
        {
            yield return appType switch
            {
                TeamsAppType.SingleTenant =>
                    $"{prefix}TenantId is required when AppType is SingleTenant (the default): the Directory (tenant) ID of the bot's app registration (Azure Bot → Configuration → App Tenant ID); the bot gets its token from that tenant, Teams sends tokens issued by it, and only its users may approve.",
                TeamsAppType.UserAssignedMSI =>
                    $"{prefix}TenantId is required when AppType is UserAssignedMSI: the Directory (tenant) ID of the managed identity (Azure Bot → Configuration → App Tenant ID); Teams sends tokens issued by it, and only its users may approve.",
                _ =>
                    $"{prefix}TenantId is required when AppType is MultiTenant: the Directory (tenant) ID of your organisation; only its users may approve.",
            };
        }
        else if (!Guid.TryParse(TenantId, out _))
        {
            yield return $"{prefix}TenantId must be the tenant's id (a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47), not a domain name: it is matched against the tenant id in tokens and activities.";
        }

        foreach (var problem in CheckUrl(prefix + "ServiceUrl", ServiceUrl))
        {
            yield return problem;
        }

        foreach (var problem in CheckUrl(prefix + "OpenIdMetadataUrl", OpenIdMetadataUrl))
        {
            yield return problem;
        }

        foreach (var problem in CheckUrl(prefix + "TenantOpenIdMetadataUrl", ResolvedTenantOpenIdMetadataUrl))
        {
            yield return problem;
        }

        if (appType != TeamsAppType.UserAssignedMSI)
        {
            var tokenProblems = CheckUrl(prefix + "TokenEndpoint", ResolvedTokenEndpoint).ToList();
            foreach (var problem in tokenProblems)
            {
                yield return problem;
            }

            if (tokenProblems.Count == 0 && !new Uri(ResolvedTokenEndpoint).AbsolutePath.TrimEnd('/').EndsWith(TokenEndpointSuffix, StringComparison.OrdinalIgnoreCase))
            {
                yield return $"{prefix}TokenEndpoint must end with {TokenEndpointSuffix} (an Entra v2.0 token endpoint).";
            }
        }
        else if (!string.IsNullOrWhiteSpace(ManagedIdentityEndpoint)
                 && (!Uri.TryCreate(ManagedIdentityEndpoint, UriKind.Absolute, out var imds) || imds.Scheme != Uri.UriSchemeHttp || !IsLoopback(imds)))
        {
            yield return $"{prefix}ManagedIdentityEndpoint is for tests only and must be a plain http loopback URL; leave it empty in production (MSAL finds the host's managed identity endpoint).";
        }

        if (!string.IsNullOrWhiteSpace(ChannelId) && !ChannelId.StartsWith("19:", StringComparison.Ordinal))
        {
            yield return $"{prefix}ChannelId must be a Teams channel id (19:…@thread.tacv2).";
        }
    }

    internal static bool TryParseAppType(string? value, out TeamsAppType type)
    {
        type = TeamsAppType.SingleTenant;
        return !string.IsNullOrWhiteSpace(value)
               && !value.Trim().All(char.IsDigit) // Enum.TryParse would take "1"
               && Enum.TryParse(value.Trim(), ignoreCase: true, out type)
               && Enum.IsDefined(type);
    }

    private static string FillTenant(string template, string tenant) =>
        template.Replace("{TenantId}", tenant, StringComparison.OrdinalIgnoreCase);

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
        builder.Append($"Enabled = {Enabled}, AppType = {AppType}, AppId = {AppId}, AppPassword = {(string.IsNullOrEmpty(AppPassword) ? "(not set)" : "(set)")}, ");
        builder.Append($"TenantId = {TenantId}, ManagedIdentityClientId = {ManagedIdentityClientId}, ServiceUrl = {ServiceUrl}, ChannelId = {ChannelId}, ");
        builder.Append($"OpenIdMetadataUrl = {OpenIdMetadataUrl}, TenantOpenIdMetadataUrl = {TenantOpenIdMetadataUrl}, TokenEndpoint = {TokenEndpoint}, ManagedIdentityEndpoint = {ManagedIdentityEndpoint}");
        return true;
    }
}
