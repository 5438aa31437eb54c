using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ApprovalBot.Gateway.Webhooks;

/// <summary>
/// Signs like Slack signs its requests: <c>v1=</c> + hex HMAC-SHA256(secret, <c>v1:{timestamp}:{raw body}</c>),
/// the timestamp in Unix seconds of this attempt. A receiver recomputes it over the raw bytes it got,
/// compares in constant time and refuses timestamps more than five minutes off (replays).
/// samples/Webhook.Receiver does exactly that.
/// </summary>
public static class WebhookSignature
{
    public const string SignatureHeader = "X-ApprovalBot-Signature";
    public const string TimestampHeader = "X-ApprovalBot-Request-Timestamp";
    public const string EventHeader = "X-ApprovalBot-Event";
    public const string DeliveryHeader = "X-ApprovalBot-Delivery";
    public const string Version = "v1";

    public static string Sign(string secret, long timestamp, string body)
    {
        var basestring = string.Create(CultureInfo.InvariantCulture, $"{Version}:{timestamp}:{body}");
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(basestring));
        return Version + "=" + Convert.ToHexStringLower(mac);
    }
}
