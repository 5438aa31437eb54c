using ApprovalBot.Bot.Approvals;

namespace ApprovalBot.Bot.Channels;

/// <summary>
/// A place where people see approval cards (Slack, Teams). The bot's bus consumers call every
/// registered channel; a channel that fails logs and retries on its own, and never blocks the others.
/// </summary>
public interface IApprovalChannel
{
    /// <summary>slack, teams, console.</summary>
    string Name { get; }

    /// <summary>Post the interactive card for a new pending approval.</summary>
    Task ShowAsync(ApprovalView approval, CancellationToken cancellationToken);

    /// <summary>Replace every card of this approval with its current state (quorum progress or final, without buttons).</summary>
    Task UpdateAsync(ApprovalView approval, CancellationToken cancellationToken);

    /// <summary>Tell the channel how the approved call went upstream (Slack: a thread reply).</summary>
    Task ExecutedAsync(ApprovalView approval, CancellationToken cancellationToken);
}
