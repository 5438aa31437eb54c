using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Bot.Status;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Slack;

/// <summary><c>/policy [status|pending|help]</c>: answered inline (ephemeral Block Kit), well within Slack's 3 s.</summary>
internal sealed class SlackCommandHandler(IServiceScopeFactory scopes, ILogger<SlackCommandHandler> logger)
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

            case "help":
                return SlackStatusMessage.Usage(name, null);
            default:
                return SlackStatusMessage.Usage(name, $"Unknown sub-command `{SlackText.Short(words[0], 50)}`.");
        }
    }
}
