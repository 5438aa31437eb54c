using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Bot.Status;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Teams;

/// <summary>Text commands sent to the bot ("policy status", "policy pending", "policy grants", "policy revoke ID", anything else: help), answered with a card in the conversation.</summary>
internal sealed partial class TeamsCommandHandler(
    IStatusReport statusReport,
    TeamsInteractionHandler interactions,
    TeamsConnectorClient connector,
    TimeProvider time,
    ILogger<TeamsCommandHandler> logger,
    IGrantReadModel? grants = null)
{
    public const int StatusPendingLimit = 10;

    public async Task HandleAsync(TeamsActivity activity, CancellationToken cancellationToken)
    {
        var command = NormalizeCommand(activity.Text);
        if (command.Length == 0)
        {
            return;
        }

        JsonObject card;
        string name;
        switch (command)
        {
            case "policy status" or "status":
                card = TeamsStatusCard.Status(await statusReport.GetAsync(StatusPendingLimit, cancellationToken));
                name = "policy status";
                break;
            case "policy pending" or "pending":
                card = TeamsStatusCard.Pending(await statusReport.GetAsync(StatusPendingLimit, cancellationToken));
                name = "policy pending";
                break;
            case "policy grants" or "grants" when grants is not null:
                var now = time.GetUtcNow();
                var (active, total) = await grants.ListActiveGrantsAsync(now, StatusPendingLimit, cancellationToken);
                card = TeamsStatusCard.Grants(active, total, now);
                name = "policy grants";
                break;
            case var revoke when RevokePattern().Match(revoke) is { Success: true } match && Guid.TryParse(match.Groups["id"].Value, out var grantId):
                (_, card) = await interactions.RevokeAsync(activity, grantId, cancellationToken);
                name = "policy revoke";
                break;
            default:
                card = TeamsStatusCard.Help();
                name = "help";
                break;
        }

        TeamsLog.Command(logger, name);
        await connector.ReplyAsync(activity, TeamsText.Activity(card), name, cancellationToken);
    }

    /// <summary>"&lt;at&gt;ApprovalBot&lt;/at&gt; Policy&amp;nbsp;Status" → "policy status".</summary>
    internal static string NormalizeCommand(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }

        var stripped = MentionPattern().Replace(text, " ");
        stripped = TagPattern().Replace(stripped, " ");
        stripped = WebUtility.HtmlDecode(stripped);
        stripped = WhitespacePattern().Replace(stripped, " ").Trim().TrimStart('/').Trim();
        return stripped.ToLowerInvariant();
    }

    [GeneratedRegex(@"<at\b[^>]*>.*?</at>", RegexOptions.IgnoreCase | RegexOptions.Singleline, matchTimeoutMilliseconds: 1000)]
    private static partial Regex MentionPattern();

    [GeneratedRegex(@"<[^>]{0,200}>", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^(policy )?revoke (?<id>\S+)$", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex RevokePattern();

    [GeneratedRegex(@"\s+", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex WhitespacePattern();
}
