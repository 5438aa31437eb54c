using System.Globalization;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Bot.Status;

/// <summary>
/// One plain-text line about a gateway's outbound webhooks for <c>/policy status</c>, without a label:
/// Slack puts "webhooks: " before it, Teams shows it as the Webhooks fact (channels escape it).
/// </summary>
public static class WebhookStatusText
{
    /// <summary>Null when the gateway has no webhooks (or predates them).</summary>
    public static string? Describe(GatewayHeartbeat beat)
    {
        if (beat.Webhooks is not { Count: > 0 } webhooks)
        {
            return null;
        }

        var troubled = webhooks.Where(w => w.Failing || w.GivenUp > 0).ToList();
        if (troubled.Count == 0)
        {
            return $"{webhooks.Count} ok";
        }

        return string.Join("; ", troubled.Select(w =>
        {
            var parts = new List<string>();
            if (w.Failing)
            {
                parts.Add($"failing ({w.LastError ?? "unknown error"})");
            }

            if (w.Waiting > 0)
            {
                parts.Add(w.OldestWaitingSince is { } since
                    ? $"{w.Waiting} waiting since {since.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC"
                    : $"{w.Waiting} waiting");
            }

            if (w.GivenUp > 0)
            {
                parts.Add($"{w.GivenUp} given up");
            }

            return $"{w.Name} {string.Join(", ", parts)}";
        })) + (troubled.Count < webhooks.Count ? $"; {webhooks.Count - troubled.Count} ok" : "");
    }
}
