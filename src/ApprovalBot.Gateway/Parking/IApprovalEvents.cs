using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Gateway.Parking;

/// <summary>What the gateway tells the bots. The bus implementation is <c>Bus/BusApprovalEvents</c>.</summary>
public interface IApprovalEvents
{
    /// <summary>This gateway's own endpoint, where bots send decisions.</summary>
    Uri GatewayAddress { get; }

    Task PublishRequestedAsync(ApprovalRequested message, CancellationToken cancellationToken);

    Task PublishResolvedAsync(ApprovalResolved message, CancellationToken cancellationToken);

    Task PublishExecutedAsync(ApprovalExecuted message, CancellationToken cancellationToken);

    Task PublishVotedAsync(ApprovalVoted message, CancellationToken cancellationToken);

    Task PublishWaitingAsync(ApprovalWaiting message, CancellationToken cancellationToken);

    Task PublishLapsedAsync(ApprovalLapsed message, CancellationToken cancellationToken);

    Task PublishEscalatedAsync(ApprovalEscalated message, CancellationToken cancellationToken);

    Task PublishReminderAsync(ApprovalReminder message, CancellationToken cancellationToken);
}
