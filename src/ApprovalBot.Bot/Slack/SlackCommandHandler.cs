using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Grants;
using ApprovalBot.Bot.Status;
using ApprovalBot.Core.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ApprovalBot.Bot.Slack;

/// <summary><c>/policy [status|pending|grants|revoke ID|help]</c>: answered inline (ephemeral Block Kit), well within Slack's 3 s.</summary>
internal sealed class SlackCommandHandler(IServiceScopeFactory scopes, IOptions<SlackOptions> options, TimeProvider time, ILogger<SlackCommandHandler> logger)
{
    public const int PendingShown = 10;

    /// <summary>How long the status report may take before the user is told to try again (Slack gives up at 3 s).</summary>
    public static readonly TimeSpan StatusBudget = TimeSpan.FromMilliseconds(2500);

    public async Task<JsonObject> HandleAsync(SlackSlashCommand command, CancellationToken cancellationToken)
    {
        var words = (command.Text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sub = words.Length == 0 ? "status" : words[0].ToLowerInvariant();
        var name = string.IsNullOrEmpty(command.Command) ? "/policy" : command.Command;
        switch (sub)
        {
            case "status":
            case "pending":
                using (var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    budget.CancelAfter(StatusBudget);
                    try
                    {
                        await using var scope = scopes.CreateAsyncScope();
                        var statusReport = scope.ServiceProvider.GetRequiredService<IStatusReport>();
                        var snapshot = await statusReport.GetAsync(PendingShown, budget.Token).ConfigureAwait(false);
                        return SlackStatusMessage.Build(snapshot, pendingOnly: sub == "pending");
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        SlackLog.StatusFailed(logger, e, sub, command.UserId);
                        return SlackStatusMessage.Ephemeral(":warning: The status could not be read just now; please try again.");
                    }
                }

            case "grants":
                using (var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    budget.CancelAfter(StatusBudget);
                    try
                    {
                        await using var scope = scopes.CreateAsyncScope();
                        var grants = scope.ServiceProvider.GetRequiredService<IGrantReadModel>();
                        var now = time.GetUtcNow();
                        var (list, total) = await grants.ListActiveGrantsAsync(now, PendingShown, budget.Token).ConfigureAwait(false);
                        return SlackStatusMessage.GrantList(list, total, now, name);
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        SlackLog.StatusFailed(logger, e, sub, command.UserId);
                        return SlackStatusMessage.Ephemeral(":warning: The grants could not be read just now; please try again.");
                    }
                }

            case "revoke" when words.Length >= 2 && Guid.TryParse(words[1], out var grantId):
                return await RevokeAsync(command, grantId, string.Join(' ', words.Skip(2)), cancellationToken).ConfigureAwait(false);
            case "revoke":
                return SlackStatusMessage.Usage(name, $"`{SlackText.Escape(name)} revoke` needs the grant's id (see `{SlackText.Escape(name)} grants`).");
            case "help":
                return SlackStatusMessage.Usage(name, null);
            default:
                return SlackStatusMessage.Usage(name, $"Unknown sub-command `{SlackText.Short(words[0], 50)}`.");
        }
    }

    /// <summary>Revokes a grant for the person who typed the command; the gateway (and the bot, early) checks that they may.</summary>
    private async Task<JsonObject> RevokeAsync(SlackSlashCommand command, Guid grantId, string comment, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(command.UserId))
        {
            return SlackStatusMessage.Ephemeral(":warning: Slack did not say who you are; nothing was revoked.");
        }

        // A shared (Slack Connect) channel has members of other workspaces: only the configured ones may act.
        var teams = options.Value.TeamIds;
        if (teams.Length > 0 && !teams.Contains(command.TeamId, StringComparer.Ordinal))
        {
            return SlackStatusMessage.Ephemeral(":no_entry: Only members of this workspace may revoke grants; nothing was revoked.");
        }

        var by = new Approver("slack", command.UserId, command.UserId, command.TeamId);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(StatusBudget);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var outcome = await scope.ServiceProvider.GetRequiredService<IGrantCommands>()
                .RevokeAsync(new GrantRevokeCommand(grantId, by, comment.Length == 0 ? null : comment, "slack"), budget.Token).ConfigureAwait(false);
            SlackLog.GrantRevokeAnswered(logger, command.UserId, grantId, outcome.Message);
            return SlackStatusMessage.Ephemeral((outcome.Accepted ? ":white_check_mark: " : ":no_entry: ") + SlackText.Escape(outcome.Message));
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            SlackLog.StatusFailed(logger, e, "revoke", command.UserId);
            return SlackStatusMessage.Ephemeral($":warning: The gateway has not answered yet; check `{SlackText.Escape(command.Command ?? "/policy")} grants` in a moment.");
        }
    }
}
