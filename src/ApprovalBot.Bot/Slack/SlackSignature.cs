using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ApprovalBot.Bot.Slack;

public enum SlackSignatureResult
{
    Valid,
    MissingHeaders,
    MalformedTimestamp,
    /// <summary>More than <see cref="SlackSignature.ReplayWindow"/> old or ahead: a replay or a wrong clock.</summary>
    OutsideReplayWindow,
    MalformedSignature,
    Mismatch,
    NoSigningSecret,
}

/// <summary>
/// Slack's request signing: <c>v0=</c> + hex(HMAC-SHA256(signing secret as UTF-8, <c>v0:{timestamp}:{raw body}</c>)).
/// Always over the raw bytes as received, before any form or JSON parsing.
/// </summary>
public static class SlackSignature
{
    public const string TimestampHeader = "X-Slack-Request-Timestamp";
    public const string SignatureHeader = "X-Slack-Signature";
    public const string RetryNumHeader = "X-Slack-Retry-Num";

    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    private const string Version = "v0";

    public static SlackSignatureResult Verify(string? signingSecret, string? timestamp, string? signature, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(signingSecret))
        {
            return SlackSignatureResult.NoSigningSecret;
        }

        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return SlackSignatureResult.MissingHeaders;
        }

        if (timestamp.Length > 15 || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SlackSignatureResult.MalformedTimestamp;
        }

        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > (long)ReplayWindow.TotalSeconds)
        {
            return SlackSignatureResult.OutsideReplayWindow;
        }

        // "v0=" + 64 hex digits.
        if (signature.Length != Version.Length + 1 + 64 || !signature.StartsWith(Version + "=", StringComparison.Ordinal))
        {
            return SlackSignatureResult.MalformedSignature;
        }

        var expected = Encoding.ASCII.GetBytes(Compute(signingSecret, timestamp, body));
        var given = Encoding.ASCII.GetBytes(signature.ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, given) ? SlackSignatureResult.Valid : SlackSignatureResult.Mismatch;
    }

    /// <summary>The <c>X-Slack-Signature</c> value Slack would send for this body and timestamp.</summary>
    public static string Compute(string signingSecret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes($"{Version}:{timestamp}:");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), message);
        return $"{Version}={Convert.ToHexStringLower(mac)}";
    }
}
