using ApprovalBot.Bot.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// The channel-wide conversation reference: the (regional) service URL Teams last used, the
/// tenant, and the team and channel the bot was installed in. Only activities that passed token
/// validation and come from the configured tenant are remembered.
/// </summary>
internal sealed class TeamsConversationStore(ICardReferences store, IOptions<TeamsOptions> options, ILogger<TeamsConversationStore> logger)
{
    public const string ServiceUrlKey = "teams:serviceUrl";
    public const string TenantIdKey = "teams:tenantId";
    public const string TeamIdKey = "teams:teamId";
    public const string ChannelIdKey = "teams:channelId";

    /// <summary>Remembers the reference carried by a validated activity from the configured tenant.</summary>
    public async Task RememberAsync(TeamsActivity activity, bool installation, CancellationToken cancellationToken)
    {
        if (!TeamsOptions.IsAcceptableUrl(activity.ServiceUrl, out _) || activity.ServiceUrl is null)
        {
            return;
        }

        var previous = await store.GetSettingAsync(ServiceUrlKey, cancellationToken);
        var changed = !string.Equals(previous, activity.ServiceUrl, StringComparison.Ordinal);
        if (changed)
        {
            await store.SetSettingAsync(ServiceUrlKey, activity.ServiceUrl, cancellationToken);
        }

        if (activity.TenantId is { Length: > 0 } tenant && !string.Equals(await store.GetSettingAsync(TenantIdKey, cancellationToken), tenant, StringComparison.Ordinal))
        {
            await store.SetSettingAsync(TenantIdKey, tenant, cancellationToken);
        }

        // The posting channel is learnt only when the bot is installed in a team, never from a
        // mention in some other channel.
        string? channel = null;
        if (installation && activity.TeamId is { Length: > 0 } team)
        {
            channel = activity.TeamChannelId is { Length: > 0 } c ? c : team; // the General channel's id is the team id
            await store.SetSettingAsync(TeamIdKey, team, cancellationToken);
            await store.SetSettingAsync(ChannelIdKey, channel, cancellationToken);
            changed = true;
        }

        if (changed)
        {
            TeamsLog.ConversationStored(logger, activity.ServiceUrl, activity.TeamId, channel, activity.Type);
        }
    }

    /// <summary>The service URL from the last inbound activity, else the configured default.</summary>
    public async Task<string> GetServiceUrlAsync(CancellationToken cancellationToken) =>
        await store.GetSettingAsync(ServiceUrlKey, cancellationToken) is { Length: > 0 } stored && TeamsOptions.IsAcceptableUrl(stored, out _)
            ? stored
            : options.Value.ServiceUrl;

    /// <summary>The configured channel, else the channel the bot was installed in; null when neither is known.</summary>
    public async Task<string?> GetPostingChannelAsync(CancellationToken cancellationToken) =>
        options.Value.ChannelId is { Length: > 0 } configured
            ? configured
            : await store.GetSettingAsync(ChannelIdKey, cancellationToken) is { Length: > 0 } stored ? stored : null;
}
