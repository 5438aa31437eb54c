using System.Text.Json;

namespace ApprovalBot.Bot.Teams;

/// <summary>The parts of an inbound Bot Framework activity that ApprovalBot reads.</summary>
internal sealed record TeamsActivity(
    string Type,
    string? Id,
    string? Name,
    string? ServiceUrl,
    string? ChannelId,
    string? Text,
    string? ConversationId,
    string? ConversationTenantId,
    string? FromAadObjectId,
    string? FromName,
    string? RecipientId,
    JsonElement? Value,
    string? ChannelDataTenantId,
    string? TeamId,
    string? TeamChannelId,
    string? Action,
    IReadOnlyList<string> MembersAdded)
{
    /// <summary>The tenant the activity comes from: <c>conversation.tenantId</c>, else <c>channelData.tenant.id</c>.</summary>
    public string? TenantId => string.IsNullOrEmpty(ConversationTenantId) ? ChannelDataTenantId : ConversationTenantId;

    public static TeamsActivity Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("An activity must be a JSON object.");
        }

        var conversation = Child(root, "conversation");
        var from = Child(root, "from");
        var recipient = Child(root, "recipient");
        var channelData = Child(root, "channelData");
        var members = new List<string>();
        if (root.TryGetProperty("membersAdded", out var added) && added.ValueKind == JsonValueKind.Array)
        {
            foreach (var member in added.EnumerateArray())
            {
                if (String(member, "id") is { } memberId)
                {
                    members.Add(memberId);
                }
            }
        }

        return new TeamsActivity(
            Type: String(root, "type") ?? "",
            Id: String(root, "id"),
            Name: String(root, "name"),
            ServiceUrl: String(root, "serviceUrl"),
            ChannelId: String(root, "channelId"),
            Text: String(root, "text"),
            ConversationId: String(conversation, "id"),
            ConversationTenantId: String(conversation, "tenantId"),
            FromAadObjectId: String(from, "aadObjectId"),
            FromName: String(from, "name"),
            RecipientId: String(recipient, "id"),
            Value: root.TryGetProperty("value", out var value) && value.ValueKind != JsonValueKind.Null ? value.Clone() : null,
            ChannelDataTenantId: String(Child(channelData, "tenant"), "id"),
            TeamId: String(Child(channelData, "team"), "id"),
            TeamChannelId: String(Child(channelData, "channel"), "id"),
            Action: String(root, "action"),
            MembersAdded: members);
    }

    private static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var child) && child.ValueKind == JsonValueKind.Object
            ? child
            : default;

    internal static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
