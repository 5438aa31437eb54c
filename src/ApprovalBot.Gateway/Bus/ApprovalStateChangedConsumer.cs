using ApprovalBot.Core.Contracts;
using ApprovalBot.Gateway.Parking;
using MassTransit;

namespace ApprovalBot.Gateway.Bus;

/// <summary>
/// Another replica applied a decision (or expired, withdrew) an approval: calls waiting for it in this
/// process are released from the database's state. Idempotent: released calls are not released twice.
/// </summary>
public sealed class ApprovalStateChangedConsumer(ApprovalLifecycle lifecycle) : IConsumer<ApprovalStateChanged>
{
    public Task Consume(ConsumeContext<ApprovalStateChanged> context) =>
        lifecycle.SyncHeldAsync(context.Message.ApprovalId, context.CancellationToken);
}
