using ApprovalBot.Core.Policy;
using static ApprovalBot.Core.Tests.Policy.PolicyTestData;
using PolicyFile = ApprovalBot.Core.Policy.Policy;

namespace ApprovalBot.Core.Tests.Policy;

public class PolicyParseTests
{
    [Fact]
    public void Design_example_parses()
    {
        var result = PolicyFile.Parse(DesignExample);

        Assert.True(result.Success, string.Join("\n", result.Errors));
        Assert.Empty(result.Errors);
        var policy = result.Policy!;
        Assert.Equal(PolicyAction.Deny, policy.Default);
        Assert.Equal(PolicyMode.Enforce, policy.Mode);
        Assert.Equal(5, policy.RuleCount);
        Assert.Equal("default deny, 4 rules, 1 hidden, 1 identity", policy.Summary);
        Assert.Equal(["slack:U111", "teams:2c1e..."], policy.Groups["sre"]);
        Assert.Equal(["awx_delete_inventory"], policy.HiddenPatterns);
        Assert.Equal(["ci-bot"], policy.Identities);
    }

    [Fact]
    public void Design_example_guarded_tool_decision_carries_every_rule_field()
    {
        var policy = Compile(DesignExample);

        var decision = policy.Evaluate(Request("agentwork_cancel_task", "{'task_id':'t1','api_key':'k'}"));

        Assert.Equal(PolicyAction.RequireApproval, decision.Action);
        Assert.Equal("rules.agentwork_cancel_task", decision.Rule);
        Assert.Equal("Cancels a running task; cannot be undone", decision.Reason);
        Assert.Equal(new RateLimit(10, 60), decision.RateLimit);
        Assert.Equal(TimeSpan.FromSeconds(60), decision.RateLimit!.Window);
        Assert.Equal(["slack:U024BE7LH", "teams:0f5c...-aad-object-id", "slack:U111", "teams:2c1e..."], decision.Approvers);
        Assert.Equal(TimeSpan.FromMinutes(15), decision.Timeout);
        Assert.Equal(ApprovalWait.Block, decision.Wait);
        Assert.Equal(1, decision.ApprovalsRequired);
    }

    [Fact]
    public void Design_example_decides_each_rule()
    {
        var policy = Compile(DesignExample);

        Assert.Equal("rules.awx_cancel_job", policy.Evaluate(Request("awx_cancel_job")).Rule);
        Assert.Equal(PolicyAction.Deny, policy.Evaluate(Request("awx_cancel_job")).Action);
        Assert.Equal("Use the AWX UI", policy.Evaluate(Request("awx_cancel_job")).Reason);
        Assert.Equal("rules.awx_list_*", policy.Evaluate(Request("awx_list_jobs")).Rule);
        Assert.Equal(PolicyAction.Allow, policy.Evaluate(Request("awx_list_jobs")).Action);
        Assert.Equal("rules.*", policy.Evaluate(Request("agentwork_get_task", annotations: "{'readOnlyHint':true}")).Rule);
        Assert.Equal("default", policy.Evaluate(Request("agentwork_get_task")).Rule);
        Assert.Equal(PolicyAction.Deny, policy.Evaluate(Request("agentwork_get_task")).Action);
        Assert.Equal("hide", policy.Evaluate(Request("awx_delete_inventory")).Rule);
        Assert.Equal("identities.ci-bot.rules.awx_list_*", policy.Evaluate(Request("awx_list_jobs", agent: "ci-bot")).Rule);
        Assert.Equal("identities.ci-bot.default", policy.Evaluate(Request("agentwork_cancel_task", agent: "ci-bot")).Rule);
    }

    [Fact]
    public void Minimal_policy_has_defaults()
    {
        var policy = Compile(J("{'version':'1','default':'allow'}"));

        Assert.Equal(PolicyAction.Allow, policy.Default);
        Assert.Equal(PolicyMode.Enforce, policy.Mode);
        Assert.Equal(0, policy.RuleCount);
        Assert.Empty(policy.Groups);
        Assert.Equal("default allow, 0 rules, 0 hidden, 0 identities", policy.Summary);

        var decision = policy.Evaluate(Request("anything"));
        Assert.Equal(new PolicyDecision(PolicyAction.Allow, "default", null, null, decision.Approvers, null, ApprovalWait.Block, 1), decision);
        Assert.Empty(decision.Approvers);
    }

    [Fact]
    public void Schema_reference_shadow_mode_and_comments_are_accepted()
    {
        var policy = Compile("""
            {
              // operators annotate their policies
              "$schema": "../schemas/policy.schema.json",
              "version": "1",
              "default": "require_approval",
              "mode": "shadow",
              "rules": { "a": { "action": "allow" }, "b": { "action": "deny" } },
              "identities": { "x": {}, "y": { "rules": {} } }
            }
            """);

        Assert.Equal(PolicyMode.Shadow, policy.Mode);
        Assert.Equal(PolicyAction.RequireApproval, policy.Default);
        Assert.Equal("default require_approval, 2 rules, 0 hidden, 2 identities, shadow mode", policy.Summary);
        var decision = policy.Evaluate(Request("c"));
        Assert.Equal(PolicyAction.RequireApproval, decision.Action);
        Assert.Empty(decision.Approvers);
        Assert.Null(decision.Timeout);
    }

    [Fact]
    public void Every_rule_field_is_compiled()
    {
        var policy = Compile(WithRules(
            "{'awx_cancel_job':{'action':'require_approval','reason':'r','approvers':['console:alice','slack:U1','console:alice'],"
            + "'timeout':'1h30m','rate_limit':{'max':1,'window':3600},'wait':'retry','approvals_required':2,"
            + "'when':{'args.force':true}}}"));

        var decision = policy.Evaluate(Request("awx_cancel_job", "{'force':true}"));

        Assert.Equal(PolicyAction.RequireApproval, decision.Action);
        Assert.Equal(["console:alice", "slack:U1"], decision.Approvers);
        Assert.Equal(TimeSpan.FromMinutes(90), decision.Timeout);
        Assert.Equal(new RateLimit(1, 3600), decision.RateLimit);
        Assert.Equal(ApprovalWait.Retry, decision.Wait);
        Assert.Equal(2, decision.ApprovalsRequired);
        Assert.Equal(1, policy.RuleCount);
    }

    [Fact]
    public void Rate_limit_is_allowed_on_allow_rules()
    {
        var decision = Compile(WithRules("{'x':{'action':'allow','rate_limit':{'max':5,'window':10}}}")).Evaluate(Request("x"));

        Assert.Equal(PolicyAction.Allow, decision.Action);
        Assert.Equal(new RateLimit(5, 10), decision.RateLimit);
    }

    [Fact]
    public void Decisions_are_shared_instances_so_evaluation_does_not_allocate()
    {
        var policy = Compile(DesignExample);

        Assert.Same(policy.Evaluate(Request("awx_list_a")), policy.Evaluate(Request("awx_list_b")));
    }

    [Fact]
    public void Wire_names_round_trip()
    {
        Assert.Equal("require_approval", PolicyAction.RequireApproval.ToWireName());
        Assert.Equal("retry", ApprovalWait.Retry.ToWireName());
        Assert.Equal("shadow", PolicyMode.Shadow.ToWireName());
    }

    [Fact]
    public void Error_formats_as_path_colon_message()
    {
        Assert.Equal("$.rules.x.acton: unknown field", new PolicyError("$.rules.x.acton", "unknown field").ToString());
    }

    [Fact]
    public void Parse_result_is_not_success_without_a_policy()
    {
        Assert.False(new PolicyParseResult(null, []).Success);
    }
}
