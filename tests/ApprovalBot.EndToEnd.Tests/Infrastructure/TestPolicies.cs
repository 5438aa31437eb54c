namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

public static class TestPolicies
{
    /// <summary>The policy most end-to-end tests run under: every decision kind on real tools.</summary>
    public const string Standard = """
        {
          "version": "1",
          "default": "deny",
          "hide": ["everything_get-env"],
          "rules": {
            "everything_echo": { "action": "allow" },
            "everything_get-sum": { "action": "allow", "rate_limit": { "max": 2, "window": 3600 } },
            "everything_trigger-long-running-operation": { "action": "allow" },
            "everything_get-tiny-image": { "action": "deny", "reason": "Images are not needed here" },
            "everything_*": { "action": "allow", "when": { "annotations.readOnlyHint": true } },
            "agentwork_list_*": { "action": "allow" },
            "agentwork_ping": { "action": "allow" },
            "agentwork_cancel_task": {
              "action": "require_approval",
              "reason": "Cancels a running task; cannot be undone",
              "approvers": ["console:admin", "slack:U0APPROVER", "teams:11111111-2222-3333-4444-555555555555"],
              "timeout": "10m"
            },
            "agentwork_cancel_job": { "action": "require_approval", "reason": "Stops a deployment", "timeout": "3s" },
            "agentwork_delete_inventory": { "action": "require_approval", "reason": "Deletes inventory", "wait": "retry", "timeout": "10m" }
          }
        }
        """;
}
