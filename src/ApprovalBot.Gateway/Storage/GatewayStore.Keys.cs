using Dapper;

namespace ApprovalBot.Gateway.Storage;

/// <summary>Keys every replica must share (the argument digest's): created once by whichever replica comes first.</summary>
public sealed partial class GatewayStore
{
    /// <summary>
    /// The key named <paramref name="name"/>: <paramref name="candidate"/> if no replica stored one yet,
    /// else the one stored first (replicas starting together race on the insert; all read the winner).
    /// </summary>
    public async Task<byte[]> LoadOrCreateSharedKeyAsync(string name, byte[] candidate, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var connection = await _database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO shared_keys (name, value, created_at) VALUES (@name, @Value, @At) ON CONFLICT DO NOTHING",
            new { name, Value = Convert.ToHexStringLower(candidate), At = at.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        var stored = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT value FROM shared_keys WHERE name = @name", new { name }, cancellationToken: cancellationToken));
        return Convert.FromHexString(stored!);
    }
}
