using System.Text.Json;
using ApprovalBot.Core.Policy;

namespace ApprovalBot.Core.Tests.Policy;

internal static class PolicyTestData
{
    /// <summary>The example from DESIGN.md, "Policy file", verbatim.</summary>
    public const string DesignExample = """
        {
          "version": "1",
          "default": "deny",
          "hide": ["awx_delete_inventory"],
          "rules": {
            "agentwork_cancel_task": {
              "action": "require_approval",
              "reason": "Cancels a running task; cannot be undone",
              "approvers": ["slack:U024BE7LH", "teams:0f5c...-aad-object-id", "group:sre"],
              "timeout": "15m",
              "rate_limit": { "max": 10, "window": 60 }
            },
            "awx_cancel_job": { "action": "deny", "reason": "Use the AWX UI" },
            "awx_list_*":     { "action": "allow" },
            "*":              { "action": "allow", "when": { "annotations.readOnlyHint": true } }
          },
          "groups": { "sre": ["slack:U111", "teams:2c1e..."] },
          "identities": { "ci-bot": { "default": "deny", "rules": { "awx_list_*": { "action": "allow" } } } }
        }
        """;

    /// <summary>Single quotes to double quotes, so JSON fits on one readable line in test data.</summary>
    public static string J(string singleQuoted) => singleQuoted.Replace('\'', '"');

    /// <summary>A policy with the given rules object (single-quoted JSON) and default deny.</summary>
    public static string WithRules(string rules, string extra = "") =>
        J($"{{'version':'1','default':'deny','rules':{rules}{extra}}}");

    public static ApprovalBot.Core.Policy.Policy Compile(string json)
    {
        var result = ApprovalBot.Core.Policy.Policy.Parse(json);
        Assert.True(result.Success, string.Join(Environment.NewLine, result.Errors));
        return result.Policy!;
    }

    public static JsonElement Json(string json) => JsonSerializer.Deserialize<JsonElement>(json);

    public static PolicyRequest Request(string tool, string? args = null, string? annotations = null, string agent = "agent") =>
        new(agent, tool, args is null ? null : Json(J(args)), annotations is null ? null : Json(J(annotations)));
}
