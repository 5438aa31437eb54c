using ApprovalBot.Bot.Approvals;

namespace ApprovalBot.Bot.Channels;

/// <summary>
/// A channel that can tell people about an approval nobody answers: who it was escalated to
/// (Slack: a thread reply mentioning them; Teams: a card mentioning them), and that it is about to
/// expire. Optional beside <see cref="IApprovalChannel"/>; like it, never throws into the consumer.
/// </summary>
public interface IEscalationChannel
{
    Task EscalatedAsync(ApprovalView approval, IReadOnlyList<string> added, CancellationToken cancellationToken);

    Task RemindAsync(ApprovalView approval, DateTimeOffset expiresAt, CancellationToken cancellationToken);
}
