using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Teams;

/// <summary>
/// Routes an activity whose token already passed <see cref="TeamsTokenValidator"/>: card clicks to
/// <see cref="TeamsInteractionHandler"/>, text commands ("policy status") to
/// <see cref="TeamsCommandHandler"/>, and installation events to the conversation references.
/// </summary>
internal sealed class TeamsActivityHandler(
    TeamsInteractionHandler interactions,
    TeamsCommandHandler commands,
    TeamsConversationStore conversations,
    IOptions<TeamsOptions> options,
    ILogger<TeamsActivityHandler> logger)
{
    public const string TeamsChannelId = "msteams";
    public const string CardActionInvokeName = "adaptiveCard/action";

    public async Task<IResult> HandleAsync(TeamsActivity activity, CancellationToken cancellationToken)
    {
        if (!string.Equals(activity.ChannelId, TeamsChannelId, StringComparison.Ordinal))
        {
            return Results.Ok(); // endorsed, but not a channel this bot serves (e.g. Web Chat)
        }

        var ownTenant = options.Value.IsOwnTenant(activity.TenantId);
        switch (activity.Type)
        {
            case "invoke" when string.Equals(activity.Name, CardActionInvokeName, StringComparison.Ordinal):
                return await interactions.InvokeAsync(activity, cancellationToken);

            case "invoke":
                return Results.Ok();

            case "message" when !ownTenant:
            case "conversationUpdate" when !ownTenant:
            case "installationUpdate" when !ownTenant:
                TeamsLog.ForeignTenant(logger, activity.Type, activity.TenantId);
                return Results.Ok();

            case "message":
                await conversations.RememberAsync(activity, installation: false, cancellationToken);
                if (!await interactions.TrySubmitAsync(activity, cancellationToken))
                {
                    await commands.HandleAsync(activity, cancellationToken);
                }

                return Results.Ok();

            case "conversationUpdate":
                var installed = activity.RecipientId is { } bot && activity.MembersAdded.Contains(bot, StringComparer.Ordinal);
                await conversations.RememberAsync(activity, installed, cancellationToken);
                return Results.Ok();

            case "installationUpdate":
                await conversations.RememberAsync(activity, string.Equals(activity.Action, "add", StringComparison.OrdinalIgnoreCase), cancellationToken);
                return Results.Ok();

            default:
                return Results.Ok();
        }
    }
}
