using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Gateway.Parking;

/// <summary>What the gateway tells the bots. The bus implementation is <c>Bus/BusApprovalEvents</c>.</summary>
public interface IApprovalEvents
{
    /// <summary>Where bots send decisions: this gateway's own endpoint, or with a shared database the replicas' shared queue.</summary>
    Uri GatewayAddress { get; }

    /// <summary>True when replicas share the database: approvals' state changes are then announced to the other replicas.</summary>
    bool AnnouncesToReplicas => false;

    /// <summary>Tells the other gateway replicas that an approval left Pending (only when <see cref="AnnouncesToReplicas"/>).</summary>
    Task PublishStateChangedAsync(ApprovalStateChanged message, CancellationToken cancellationToken) => Task.CompletedTask;

    Task PublishRequestedAsync(ApprovalRequested message, CancellationToken cancellationToken);

    Task PublishResolvedAsync(ApprovalResolved message, CancellationToken cancellationToken);

    Task PublishExecutedAsync(ApprovalExecuted message, CancellationToken cancellationToken);

    Task PublishVotedAsync(ApprovalVoted message, CancellationToken cancellationToken);

    Task PublishWaitingAsync(ApprovalWaiting message, CancellationToken cancellationToken);

    Task PublishLapsedAsync(ApprovalLapsed message, CancellationToken cancellationToken);

    Task PublishEscalatedAsync(ApprovalEscalated message, CancellationToken cancellationToken);

    Task PublishReminderAsync(ApprovalReminder message, CancellationToken cancellationToken);
}
