using System.Text.Json;

namespace ApprovalBot.Core.Policy;

/// <summary>What the policy decides for one tool call.</summary>
public enum PolicyAction
{
    Allow,
    Deny,
    RequireApproval,
}

/// <summary>How a <c>require_approval</c> call waits: rule field <c>"wait": "block" | "retry"</c>.</summary>
public enum ApprovalWait
{
    /// <summary>The agent's request stays open until a human decides (default).</summary>
    Block,

    /// <summary>The call returns at once with the approval id; an identical call after approval executes.</summary>
    Retry,
}

/// <summary>What a time-boxed grant covers: rule field <c>"grant_scope": "tool" | "arguments"</c>.</summary>
public enum GrantScope
{
    /// <summary>Every later call of the same agent to the same tool (default).</summary>
    Tool,

    /// <summary>Only later calls of the same agent to the same tool with the same argument digest.</summary>
    Arguments,
}

/// <summary>Rule field <c>"escalate": {"after": "10m", "to": ["group:oncall"]}</c>: who else is asked when nobody decided in time.</summary>
/// <param name="To">Principals with <c>group:NAME</c> expanded, de-duplicated, in file order.</param>
public sealed record EscalationRule(TimeSpan After, IReadOnlyList<string> To);

/// <summary>Top-level <c>"mode"</c>: <c>enforce</c> (default) or <c>shadow</c> (decide and log, but allow).</summary>
public enum PolicyMode
{
    Enforce,
    Shadow,
}

/// <summary>At most <paramref name="Max"/> calls per <paramref name="WindowSeconds"/>, counted per agent identity.</summary>
public sealed record RateLimit(int Max, int WindowSeconds)
{
    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}

/// <summary>One problem in a policy file. <paramref name="Path"/> is a JSON path such as <c>$.rules["awx_list_*"].action</c>.</summary>
public sealed record PolicyError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// A tool call to decide on. <paramref name="Arguments"/> is the call's arguments object and
/// <paramref name="Annotations"/> the MCP tool's <c>annotations</c> object; both may be null.
/// </summary>
public sealed record PolicyRequest(string Agent, string Tool, JsonElement? Arguments, JsonElement? Annotations);

/// <summary>
/// The outcome of <see cref="Policy.Evaluate"/>. Decisions are built once when the policy is compiled,
/// so evaluating a call allocates nothing.
/// </summary>
/// <param name="Rule">
/// What decided, as a dotted path: <c>rules.awx_list_*</c>, <c>identities.ci-bot.rules.awx_list_*</c>,
/// <c>identities.ci-bot.default</c>, <c>default</c> or <c>hide</c>.
/// </param>
/// <param name="Approvers">Principals with <c>group:NAME</c> expanded, de-duplicated, in file order; empty = anyone authenticated.</param>
/// <param name="Timeout">The rule's approval timeout; null = the configured default.</param>
/// <param name="Hold">How long a guarded call waits for the decision before it is handed back; null = the configured default, zero for <c>wait: retry</c>.</param>
public sealed record PolicyDecision(
    PolicyAction Action,
    string Rule,
    string? Reason,
    RateLimit? RateLimit,
    IReadOnlyList<string> Approvers,
    TimeSpan? Timeout,
    ApprovalWait Wait,
    int ApprovalsRequired,
    TimeSpan? Hold = null)
{
    /// <summary>Rule field <c>grants</c>: the durations an approver may approve for ("approve for 1h"); empty = approve once only.</summary>
    public IReadOnlyList<TimeSpan> Grants { get; init; } = [];

    /// <summary>Rule field <c>grant_scope</c>: what a grant given under this rule lets through.</summary>
    public GrantScope GrantScope { get; init; }

    /// <summary>Rule field <c>escalate</c>: still pending after <see cref="EscalationRule.After"/>, <see cref="EscalationRule.To"/> are added as approvers and told.</summary>
    public EscalationRule? Escalation { get; init; }

    /// <summary>Rule field <c>editable</c>: whether an approver may change the arguments before approving (default true).</summary>
    public bool Editable { get; init; } = true;

    /// <summary>
    /// Identifies the rule's content (its JSON and its expanded approvers): a grant stays usable only
    /// while the rule that allowed it is unchanged. Empty for built-in decisions (defaults, hide).
    /// </summary>
    public string Fingerprint { get; init; } = "";
}

/// <summary>The result of <see cref="Policy.Parse"/>: a compiled policy, or every error found.</summary>
public sealed record PolicyParseResult(Policy? Policy, IReadOnlyList<PolicyError> Errors)
{
    public bool Success => Policy is not null && Errors.Count == 0;
}

/// <summary>One rule whose name or glob matched the tool, in the order the policy consults them.</summary>
/// <param name="Rule">The rule's path, as in <see cref="PolicyDecision.Rule"/>.</param>
/// <param name="ConditionsHold">Whether its <c>when</c> held (true when it has none).</param>
/// <param name="FailedCondition">The first <c>when</c> key that did not hold, if any.</param>
public sealed record PolicyCandidate(string Rule, bool ConditionsHold, string? FailedCondition);

/// <summary>What <see cref="Policy.Explain"/> returns: the decision and the rules that were considered.</summary>
public sealed record PolicyExplanation(PolicyDecision Decision, IReadOnlyList<PolicyCandidate> Candidates);

/// <summary>The spelling of the policy enums in the policy file.</summary>
public static class PolicyNames
{
    public static string ToWireName(this PolicyAction action) => action switch
    {
        PolicyAction.Allow => "allow",
        PolicyAction.Deny => "deny",
        PolicyAction.RequireApproval => "require_approval",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };

    public static string ToWireName(this ApprovalWait wait) => wait switch
    {
        ApprovalWait.Block => "block",
        ApprovalWait.Retry => "retry",
        _ => throw new ArgumentOutOfRangeException(nameof(wait), wait, null),
    };

    public static string ToWireName(this GrantScope scope) => scope switch
    {
        GrantScope.Tool => "tool",
        GrantScope.Arguments => "arguments",
        _ => throw new ArgumentOutOfRangeException(nameof(scope), scope, null),
    };

    public static string ToWireName(this PolicyMode mode) => mode switch
    {
        PolicyMode.Enforce => "enforce",
        PolicyMode.Shadow => "shadow",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };
}
