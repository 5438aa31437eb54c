namespace ApprovalBot.Core.Contracts;

/// <summary>
/// Sent by a bot to the gateway that owns the approval when a channel posted a card for it, so the
/// gateway's audit (and the approval's timeline) records where people were asked. Idempotent on
/// (approval, channel, reference): a redelivery or a second report of the same card changes nothing.
/// </summary>
/// <param name="Channel">slack or teams.</param>
/// <param name="Reference">The message reference the channel stored (Slack <c>channel|ts</c>, Teams conversation and activity id).</param>
/// <param name="BotInstance">The bot process that posted it.</param>
public sealed record ApprovalCardPosted(
    Guid ApprovalId,
    string Channel,
    string Reference,
    DateTimeOffset PostedAt,
    string? BotInstance = null);
