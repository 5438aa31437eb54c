using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Gateway.Grants;

/// <summary>What the gateway tells the bots about grants. The bus implementation is <c>Bus/BusApprovalEvents</c>.</summary>
public interface IGrantEvents
{
    /// <summary>This gateway's own endpoint, where bots send revocations.</summary>
    Uri GatewayAddress { get; }

    Task PublishGrantCreatedAsync(GrantCreated message, CancellationToken cancellationToken);

    Task PublishGrantEndedAsync(GrantEnded message, CancellationToken cancellationToken);
}
