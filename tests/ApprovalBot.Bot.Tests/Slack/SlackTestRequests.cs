using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>
/// Builds requests exactly as Slack sends them: interaction payloads as a form field, slash commands
/// as form fields, events as JSON — each signed with <c>v0=HMAC-SHA256(secret, "v0:{ts}:{raw body}")</c>.
/// Independent of the code under test (it does not call SlackSignature). Other test projects can link this file.
/// </summary>
public static class SlackTestRequests
{
    public const string TeamId = "T0TEAM0001";

    public static string Sign(string signingSecret, long timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes($"v0:{timestamp.ToString(CultureInfo.InvariantCulture)}:");
        byte[] message = [.. prefix, .. body];
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), message);
        return "v0=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>A POST of <paramref name="body"/> with Slack's headers. Pass null <paramref name="signingSecret"/> to leave the signature out.</summary>
    public static HttpRequestMessage Signed(
        string path,
        byte[] body,
        string contentType,
        string? signingSecret,
        DateTimeOffset now,
        int? retryNum = null,
        long? timestampOverride = null,
        bool includeTimestamp = true)
    {
        var timestamp = timestampOverride ?? now.ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (includeTimestamp)
        {
            request.Headers.Add("X-Slack-Request-Timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        }

        if (signingSecret is not null)
        {
            request.Headers.Add("X-Slack-Signature", Sign(signingSecret, timestamp, body));
        }

        if (retryNum is { } n)
        {
            request.Headers.Add("X-Slack-Retry-Num", n.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("X-Slack-Retry-Reason", "http_timeout");
        }

        return request;
    }

    /// <summary>The form body Slack posts to the interactivity URL: <c>payload=&lt;url-encoded JSON&gt;</c>.</summary>
    public static byte[] InteractionBody(JsonNode payload) => FormBody(new Dictionary<string, string> { ["payload"] = payload.ToJsonString() });

    /// <summary>Form-url-encoded as Slack does it (spaces as '+').</summary>
    public static byte[] FormBody(IReadOnlyDictionary<string, string> fields) =>
        Encoding.UTF8.GetBytes(string.Join('&', fields.Select(f => $"{Encode(f.Key)}={Encode(f.Value)}")));

    public static byte[] SlashCommandBody(string text, string userId, string channelId = "C0APPROVALS", string command = "/policy") =>
        FormBody(SlashCommandFields(text, userId, channelId, command));

    public static Dictionary<string, string> SlashCommandFields(string text, string userId, string channelId = "C0APPROVALS", string command = "/policy") => new()
    {
        ["token"] = "deprecated-verification-token",
        ["team_id"] = TeamId,
        ["team_domain"] = "example",
        ["channel_id"] = channelId,
        ["channel_name"] = "approvals",
        ["user_id"] = userId,
        ["user_name"] = "someone",
        ["command"] = command,
        ["text"] = text,
        ["api_app_id"] = "A0APP",
        ["response_url"] = "https://hooks.slack.com/commands/T0TEAM0001/1/abc",
        ["trigger_id"] = "13345224609.738474920.8088930838d88f008e0",
    };

    /// <summary>A <c>block_actions</c> payload for one button press on an ApprovalBot card.</summary>
    public static JsonObject BlockActions(string actionId, Guid approvalId, string userId, string userName = "someone", string channelId = "C0APPROVALS", string messageTs = "1700000001.000001", string? actionTs = null, string? triggerId = null) => new()
    {
        ["type"] = "block_actions",
        ["user"] = new JsonObject { ["id"] = userId, ["username"] = userName, ["name"] = userName, ["team_id"] = TeamId },
        ["api_app_id"] = "A0APP",
        ["token"] = "deprecated-verification-token",
        ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = messageTs, ["channel_id"] = channelId, ["is_ephemeral"] = false },
        ["trigger_id"] = triggerId ?? $"trigger-{Guid.NewGuid():N}",
        ["team"] = new JsonObject { ["id"] = TeamId, ["domain"] = "example" },
        ["channel"] = new JsonObject { ["id"] = channelId, ["name"] = "approvals" },
        ["message"] = new JsonObject { ["type"] = "message", ["ts"] = messageTs, ["text"] = "Approval needed" },
        ["response_url"] = "https://hooks.slack.com/actions/T0TEAM0001/1/abc",
        ["actions"] = new JsonArray
        {
            new JsonObject
            {
                ["action_id"] = actionId,
                ["block_id"] = "approvalbot_actions",
                ["value"] = approvalId.ToString(),
                ["type"] = "button",
                ["action_ts"] = actionTs ?? $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Random.Shared.Next(100000, 999999)}",
            },
        },
    };

    /// <summary>The <c>view_submission</c> of the deny-with-reason dialog (its private_metadata as ApprovalBot set it in views.open).</summary>
    public static JsonObject DenyReasonSubmission(string privateMetadata, string reason, string userId, string userName = "someone", string viewId = "V0000001") => new()
    {
        ["type"] = "view_submission",
        ["team"] = new JsonObject { ["id"] = TeamId, ["domain"] = "example" },
        ["user"] = new JsonObject { ["id"] = userId, ["username"] = userName, ["name"] = userName, ["team_id"] = TeamId },
        ["api_app_id"] = "A0APP",
        ["trigger_id"] = $"trigger-{Guid.NewGuid():N}",
        ["view"] = new JsonObject
        {
            ["id"] = viewId,
            ["type"] = "modal",
            ["callback_id"] = "approvalbot_deny_reason_modal",
            ["private_metadata"] = privateMetadata,
            ["hash"] = "156772938.1827394",
            ["state"] = new JsonObject
            {
                ["values"] = new JsonObject
                {
                    ["approvalbot_reason"] = new JsonObject
                    {
                        ["approvalbot_reason_input"] = new JsonObject { ["type"] = "plain_text_input", ["value"] = reason },
                    },
                },
            },
        },
    };

    public static JsonObject UrlVerification(string challenge) => new()
    {
        ["token"] = "deprecated-verification-token",
        ["challenge"] = challenge,
        ["type"] = "url_verification",
    };

    private static string Encode(string value) => Uri.EscapeDataString(value).Replace("%20", "+", StringComparison.Ordinal);
}
