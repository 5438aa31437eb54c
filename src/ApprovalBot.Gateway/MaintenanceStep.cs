namespace ApprovalBot.Gateway;

/// <summary>
/// One step of a background maintenance loop (approvals, grants): a failure is logged by the caller's
/// own event and the loop carries on, so the next tick retries it. Only cancellation ends the loop.
/// </summary>
internal static class MaintenanceStep
{
    public static async Task RunAsync(Func<CancellationToken, Task> step, Action<string> logFailed, CancellationToken stoppingToken)
    {
        try
        {
            await step(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logFailed(e.Message);
        }
    }
}
