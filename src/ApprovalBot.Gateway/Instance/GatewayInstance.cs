namespace ApprovalBot.Gateway.Instance;

/// <summary>This gateway process's stable name on the bus.</summary>
public sealed record GatewayInstance(string Id);
