using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Webhook.Receiver;

/// <summary>Why a webhook request was accepted or refused.</summary>
public enum Verification
{
    Valid,
    MissingHeaders,
    StaleTimestamp,
    BadSignature,
}

/// <summary>
/// Checks an ApprovalBot webhook the way the gateway signs it (and Slack signs its requests):
/// <c>X-ApprovalBot-Signature: v1=hex(HMAC-SHA256(secret, "v1:" + timestamp + ":" + raw body))</c>, with
/// <c>X-ApprovalBot-Request-Timestamp</c> in Unix seconds. Copy this file into a receiver: it has no
/// dependency beyond .NET.
/// </summary>
public static class WebhookVerifier
{
    public const string SignatureHeader = "X-ApprovalBot-Signature";
    public const string TimestampHeader = "X-ApprovalBot-Request-Timestamp";
    public const string EventHeader = "X-ApprovalBot-Event";
    public const string DeliveryHeader = "X-ApprovalBot-Delivery";

    /// <summary>A request signed further from now than this (either way) is refused: a replay, or a clock far off.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <param name="body">The raw bytes as received: verify before parsing, never a re-serialized copy.</param>
    public static Verification Verify(string secret, string? timestamp, string? signature, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature)
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return Verification.MissingHeaders;
        }

        // Checked before the signature: a replayed request is refused even though its signature is genuine.
        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > Tolerance.TotalSeconds)
        {
            return Verification.StaleTimestamp;
        }

        var prefix = Encoding.UTF8.GetBytes($"v1:{timestamp}:");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        var expected = Encoding.ASCII.GetBytes("v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed)));
        // Constant time: how much of a guess matched must not show in how long the answer takes.
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature.Trim()))
            ? Verification.Valid
            : Verification.BadSignature;
    }
}
