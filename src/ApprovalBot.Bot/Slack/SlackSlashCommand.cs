using System.Text.Json;

namespace ApprovalBot.Bot.Slack;

/// <summary>A slash command as Slack sends it (form fields over HTTP, the same names as JSON over Socket Mode).</summary>
internal sealed record SlackSlashCommand(string? Command, string? Text, string? UserId, string? TeamId, string? ChannelId)
{
    public static SlackSlashCommand FromFields(Func<string, string?> field) =>
        new(field("command"), field("text"), field("user_id"), field("team_id"), field("channel_id"));

    public static SlackSlashCommand FromJson(JsonElement payload) =>
        FromFields(name => SlackJson.ReadString(payload, name));
}
