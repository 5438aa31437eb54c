using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Grants;
using ApprovalBot.Gateway.Instance;
using ApprovalBot.Gateway.Parking;
using MassTransit;

namespace ApprovalBot.Gateway.Bus;

/// <summary>Publishes the gateway's approval and grant events on the bus, bounded in time so a dead broker never holds a call.</summary>
public sealed class BusApprovalEvents(IBus bus, GatewayInstance instance) : IApprovalEvents, IGrantEvents
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    public Uri GatewayAddress { get; } = new($"queue:{BusQueues.Gateway(instance.Id)}");

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
