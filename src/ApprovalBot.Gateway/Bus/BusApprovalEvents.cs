using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Grants;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Storage;
using MassTransit;

namespace ApprovalBot.Gateway.Bus;

/// <summary>Publishes the gateway's approval and grant events on the bus, bounded in time so a dead broker never holds a call.</summary>
public sealed class BusApprovalEvents(IBus bus, GatewayInstance instance, GatewayStore store) : IApprovalEvents, IGrantEvents
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// With SQLite only this process has the approval, so decisions go to its own queue. With PostgreSQL
    /// any replica can apply them, so they go to the replicas' shared queue: a dead owner loses nothing.
    /// </summary>
    public Uri GatewayAddress { get; } = new($"queue:{(store.Shared ? BusQueues.GatewayShared : BusQueues.Gateway(instance.Id))}");

    public bool AnnouncesToReplicas => store.Shared;

    public Task PublishStateChangedAsync(ApprovalStateChanged message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishRequestedAsync(ApprovalRequested message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishResolvedAsync(ApprovalResolved message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishExecutedAsync(ApprovalExecuted message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishVotedAsync(ApprovalVoted message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishWaitingAsync(ApprovalWaiting message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishLapsedAsync(ApprovalLapsed message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishEscalatedAsync(ApprovalEscalated message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishReminderAsync(ApprovalReminder message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishGrantCreatedAsync(GrantCreated message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    public Task PublishGrantEndedAsync(GrantEnded message, CancellationToken cancellationToken) => PublishAsync(message, cancellationToken);

    private async Task PublishAsync<T>(T message, CancellationToken cancellationToken)
        where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);
        try
        {
            await bus.Publish(message, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Our own deadline, not the caller's: report it as a failure to publish (retried later).
            throw new TimeoutException($"The bus did not accept {typeof(T).Name} within {PublishTimeout.TotalSeconds} s.");
        }
    }
}
