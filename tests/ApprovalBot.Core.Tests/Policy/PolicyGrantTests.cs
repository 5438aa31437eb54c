using ApprovalBot.Core.Policy;
using static ApprovalBot.Core.Tests.Policy.PolicyTestData;
using PolicyFile = ApprovalBot.Core.Policy.Policy;

namespace ApprovalBot.Core.Tests.Policy;

/// <summary>The rule options <c>grants</c> and <c>grant_scope</c>: strict validation, compiled values, and the rule fingerprint grants depend on.</summary>
public class PolicyGrantTests
{
    private static string Rule(string fields) =>
        "{'version':'1','default':'deny','rules':{'agentwork_cancel_task':{'action':'require_approval'," + fields + "}}}";

    [Theory]
    [InlineData("'grants':['15m','1h'],'approvals_required':2,'approvers':['slack:U1','slack:U2']", "$.rules.agentwork_cancel_task.grants", "cannot be combined with \"approvals_required\" above 1")]
    [InlineData("'grants':[]", "$.rules.agentwork_cancel_task.grants", "an empty \"grants\" list is not allowed")]
    [InlineData("'grants':'1h'", "$.rules.agentwork_cancel_task.grants", "expected an array of durations, got a string")]
    [InlineData("'grants':['1h','90m','1h']", "$.rules.agentwork_cancel_task.grants[2]", "duplicate grant duration \"1h\"")]
    [InlineData("'grants':['5m','10m','15m','1h']", "$.rules.agentwork_cancel_task.grants", "at most 3 grant durations")]
    [InlineData("'grants':['1 hour']", "$.rules.agentwork_cancel_task.grants[0]", "invalid duration \"1 hour\"")]
    [InlineData("'grants':['0s']", "$.rules.agentwork_cancel_task.grants[0]", "must be greater than zero")]
    [InlineData("'grant_scope':'arguments'", "$.rules.agentwork_cancel_task.grant_scope", "\"grant_scope\" has no effect without \"grants\"")]
    [InlineData("'timeout':'5m','escalate':{'after':'10m','to':['slack:U1']}", "$.rules.agentwork_cancel_task.escalate.after", "would come after the timeout")]
    [InlineData("'escalate':{'after':'10m'}", "$.rules.agentwork_cancel_task.escalate", "missing required field \"to\"")]
    [InlineData("'escalate':{'after':'10m','to':['group:nobody']}", "$.rules.agentwork_cancel_task.escalate.to[0]", "unknown group \"nobody\"")]
    [InlineData("'escalate':{'after':'10m','to':['slack:U1'],'cc':[]}", "$.rules.agentwork_cancel_task.escalate.cc", "unknown field \"cc\"")]
    [InlineData("'editable':'no'", "$.rules.agentwork_cancel_task.editable", "expected true or false, got a string")]
    [InlineData("'grants':['1h'],'grant_scope':'args'", "$.rules.agentwork_cancel_task.grant_scope", "invalid grant_scope \"args\"; expected \"tool\" or \"arguments\"")]
    public void Invalid_grant_options_are_refused_with_their_json_path(string fields, string path, string fragment)
    {
        var result = PolicyFile.Parse(J(Rule(fields)));

        Assert.False(result.Success);
        Assert.True(
            result.Errors.Any(e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal)),
            $"expected an error at {path} containing '{fragment}'; got:\n{string.Join("\n", result.Errors)}");
    }

    [Fact]
    public void Grant_options_only_apply_to_require_approval()
    {
        var result = PolicyFile.Parse(J("{'version':'1','default':'deny','rules':{'x':{'action':'allow','grants':['1h']}}}"));

        Assert.Contains(result.Errors, e => e.Path == "$.rules.x.grants" && e.Message.Contains("only applies to action \"require_approval\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Grants_and_scope_are_compiled_into_the_decision()
    {
        var policy = Compile(J(Rule("'grants':['15m','1h','8h'],'grant_scope':'arguments'")));

        var decision = policy.Evaluate(Request("agentwork_cancel_task"));

        Assert.Equal([TimeSpan.FromMinutes(15), TimeSpan.FromHours(1), TimeSpan.FromHours(8)], decision.Grants);
        Assert.Equal(GrantScope.Arguments, decision.GrantScope);
        Assert.Equal(GrantScope.Tool, Compile(J(Rule("'grants':['1h']"))).Evaluate(Request("agentwork_cancel_task")).GrantScope);
        Assert.Empty(Compile(J(Rule("'timeout':'5m'"))).Evaluate(Request("agentwork_cancel_task")).Grants);
    }

    [Fact]
    public void The_fingerprint_changes_with_the_rule_and_its_group_members_but_not_with_formatting_or_other_rules()
    {
        const string baseline = "{'version':'1','default':'deny','groups':{'sre':['slack:U1']},'rules':{'agentwork_cancel_task':{'action':'require_approval','approvers':['group:sre'],'grants':['1h']},'other':{'action':'allow'}}}";
        string Fingerprint(string json) => Compile(J(json)).FindRule("rules.agentwork_cancel_task")!.Fingerprint;

        var original = Fingerprint(baseline);

        Assert.Equal(32, original.Length);
        Assert.Equal(original, Fingerprint(baseline.Replace(",'grants'", ",  'grants'", StringComparison.Ordinal)));
        Assert.Equal(original, Fingerprint(baseline.Replace("'other':{'action':'allow'}", "'other':{'action':'deny'}", StringComparison.Ordinal)));
        Assert.NotEqual(original, Fingerprint(baseline.Replace("['1h']", "['2h']", StringComparison.Ordinal)));
        Assert.NotEqual(original, Fingerprint(baseline.Replace("'sre':['slack:U1']", "'sre':['slack:U1','slack:U2']", StringComparison.Ordinal)));
    }

    [Fact]
    public void FindRule_finds_global_and_identity_rules_by_their_decision_path()
    {
        var policy = Compile(J("{'version':'1','default':'deny','rules':{'a_*':{'action':'allow'}},'identities':{'ci':{'rules':{'b':{'action':'deny'}}}}}"));

        Assert.Equal(PolicyAction.Allow, policy.FindRule("rules.a_*")?.Action);
        Assert.Equal(PolicyAction.Deny, policy.FindRule("identities.ci.rules.b")?.Action);
        Assert.Null(policy.FindRule("rules.b"));
        Assert.Null(policy.FindRule("default"));
    }

    [Fact]
    public void Escalation_and_editable_are_compiled_with_groups_expanded()
    {
        var policy = Compile(J("{'version':'1','default':'deny','groups':{'oncall':['slack:U2','teams:T2']},'rules':{'agentwork_cancel_task':{'action':'require_approval','timeout':'1h','editable':false,'escalate':{'after':'10m','to':['group:oncall','slack:U3']}}}}"));

        var decision = policy.Evaluate(Request("agentwork_cancel_task"));

        Assert.False(decision.Editable);
        Assert.Equal(TimeSpan.FromMinutes(10), decision.Escalation!.After);
        Assert.Equal(["slack:U2", "teams:T2", "slack:U3"], decision.Escalation.To);
        Assert.True(Compile(J(Rule("'timeout':'5m'"))).Evaluate(Request("agentwork_cancel_task")).Editable);
    }
}
