namespace ApprovalBot.Gateway.Storage;

/// <summary>
/// An MCP task as the gateway stores it: who may see it, what it waits for, and, once terminal,
/// the result to hand out (the upstream's answer as JSON). Never the call's arguments.
/// </summary>
/// <param name="Status">The MCP wire name: working, input_required, completed, failed, cancelled.</param>
public sealed record TaskRecord(
    string Id,
    string Agent,
    string Tool,
    Guid? ApprovalId,
    string Status,
    string? StatusMessage,
    string? ResultJson,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    TimeSpan Ttl,
    string Instance)
{
    public const string Working = "working";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public bool IsTerminal => Status is Completed or Failed or Cancelled;
}
