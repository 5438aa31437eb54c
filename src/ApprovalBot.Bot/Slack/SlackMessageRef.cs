namespace ApprovalBot.Bot.Slack;

/// <summary>Where a posted message lives: the channel id and the message timestamp.</summary>
internal sealed record SlackMessageRef(string Channel, string Ts)
{
    /// <summary>The form stored in <see cref="Channels.ICardReferences"/>: <c>channel|ts</c>.</summary>
    public override string ToString() => $"{Channel}|{Ts}";

    public static SlackMessageRef? Parse(string reference)
    {
        var bar = reference.IndexOf('|', StringComparison.Ordinal);
        return bar <= 0 || bar == reference.Length - 1 ? null : new(reference[..bar], reference[(bar + 1)..]);
    }
}
