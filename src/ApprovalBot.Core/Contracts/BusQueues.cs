namespace ApprovalBot.Core.Contracts;

/// <summary>
/// Every queue name on the bus, in one place: part of the wire format, like the messages.
/// MassTransit 8.5 (never 9.x: paid licence) over the in-memory transport or RabbitMQ.
/// </summary>
public static class BusQueues
{
    /// <summary>Approval events, shared by all bot instances (one of them posts each card).</summary>
    public const string Bot = "approvalbot-bot";

    /// <summary>Decisions for the gateway instance that owns the approval (bots address it from <see cref="ApprovalRequested.GatewayAddress"/>).</summary>
    public static string Gateway(string gatewayInstance) => $"approvalbot-gateway-{gatewayInstance}";

    /// <summary>
    /// With a shared database (PostgreSQL): the one competing-consumer queue every gateway replica reads.
    /// Approvals carry it as their gateway address, so a decision is applied by any live replica even when
    /// the one that opened the approval is gone; the replica holding waiting calls learns it from
    /// <see cref="ApprovalStateChanged"/> on its own queue.
    /// </summary>
    public const string GatewayShared = "approvalbot-gateway-shared";

    /// <summary>Each bot instance's own heartbeat queue: every bot hears every gateway.</summary>
    public static string BotHeartbeats(string botInstance) => $"approvalbot-bot-{botInstance}-heartbeats";
}
