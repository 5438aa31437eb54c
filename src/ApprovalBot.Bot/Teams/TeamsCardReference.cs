namespace ApprovalBot.Bot.Teams;

/// <summary>Where a posted card lives, stored through ICardReferences as <c>conversationId|activityId|serviceUrl</c>.</summary>
internal readonly record struct TeamsCardReference(string ConversationId, string ActivityId, string ServiceUrl)
{
    public override string ToString() => $"{ConversationId}|{ActivityId}|{ServiceUrl}";

    public static bool TryParse(string? text, out TeamsCardReference reference)
    {
        reference = default;
        var parts = text?.Split('|', 3);
        if (parts is not { Length: 3 } || parts.Any(string.IsNullOrEmpty))
        {
            return false;
        }

        reference = new TeamsCardReference(parts[0], parts[1], parts[2]);
        return true;
    }
}
