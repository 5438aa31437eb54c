using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Gateway.Parking;

/// <summary>What the gateway tells the bots. The bus implementation lives with the executable's bus wiring.</summary>
public interface IApprovalEvents
{
    /// <summary>This gateway's own endpoint, where bots send decisions.</summary>
    Uri GatewayAddress { get; }

    Task PublishRequestedAsync(ApprovalRequested message, CancellationToken cancellationToken);

    Task PublishResolvedAsync(ApprovalResolved message, CancellationToken cancellationToken);

    Task PublishExecutedAsync(ApprovalExecuted message, CancellationToken cancellationToken);

    Task PublishVotedAsync(ApprovalVoted message, CancellationToken cancellationToken);
}
