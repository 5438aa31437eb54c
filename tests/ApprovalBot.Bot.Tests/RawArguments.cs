using System.Text.Json;
using ApprovalBot.Core.Redaction;

namespace ApprovalBot.Bot.Tests;

/// <summary>
/// Arguments as an agent sends them, with secrets of every kind the gateway recognises (by name, by
/// shape, in nested objects, arrays, URLs and free text), and what the gateway publishes for them:
/// the same <see cref="SecretRedactor"/> call the gateway makes. Cards built from <see cref="Redacted"/>
/// show what approvers really see; none of <see cref="Secrets"/> may appear on any channel.
/// </summary>
public static class RawArguments
{
    public const string ApiKey = "sk-live-4f9a8b7c6d5e4f3a2b1c";
    public const string BearerToken = "ya29.a0AfB_byC9rT5qZ8xkLmN2pQ7sV4wY1";
    public const string UrlPassword = "Sup3rS3cretPw";
    public const string Jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaS1ib3QifQ.c2lnbmF0dXJlc2lnbmF0dXJl";
    public const string AwsKey = "AKIAIOSFODNN7EXAMPLE";
    public const string PasswordInText = "hunter2-but-longer";

    public static readonly IReadOnlyList<string> Secrets = [ApiKey, BearerToken, UrlPassword, Jwt, AwsKey, PasswordInText];

    /// <summary>What the approver should still read: the harmless parts.</summary>
    public static readonly IReadOnlyList<string> Harmless = ["T-1042", "db.internal:5432", "nightly export", "staging"];

    public static Dictionary<string, JsonElement> Raw() => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
        $$"""
        {
          "task_id": "T-1042",
          "api_key": "{{ApiKey}}",
          "headers": { "Authorization": "Bearer {{BearerToken}}" },
          "database": "postgres://admin:{{UrlPassword}}@db.internal:5432/app",
          "targets": ["staging", "{{Jwt}}"],
          "note": "nightly export; aws {{AwsKey}}; password={{PasswordInText}}"
        }
        """)!;

    /// <summary>The arguments as the gateway publishes them in ApprovalRequested.</summary>
    public static string Redacted() => new SecretRedactor().RedactToJson(Raw());
}
