using ApprovalBot.Core.Policy;
using static ApprovalBot.Core.Tests.Policy.PolicyTestData;

namespace ApprovalBot.Core.Tests.Policy;

public class PolicyMatchingTests
{
    private static string RuleFor(string tool, string rules, string? args = null, string? annotations = null, string agent = "agent", string extra = "") =>
        Compile(WithRules(rules, extra)).Evaluate(Request(tool, args, annotations, agent)).Rule;

    [Fact]
    public void Exact_name_beats_any_glob_regardless_of_file_order()
    {
        var rules = "{'*':{'action':'allow'},'awx_list_*':{'action':'allow'},'awx_list_jobs':{'action':'deny'},'awx_list_job?':{'action':'allow'}}";

        Assert.Equal("rules.awx_list_jobs", RuleFor("awx_list_jobs", rules));
    }

    [Fact]
    public void Longer_literal_prefix_wins_regardless_of_file_order()
    {
        var rules = "{'*':{'action':'allow'},'awx_*':{'action':'allow'},'awx_list_*':{'action':'deny'},'a*_jobs':{'action':'allow'}}";

        Assert.Equal("rules.awx_list_*", RuleFor("awx_list_jobs", rules));
        Assert.Equal("rules.awx_*", RuleFor("awx_cancel_job", rules));
        Assert.Equal("rules.*", RuleFor("agentwork_get", rules));
    }

    [Fact]
    public void Same_prefix_then_more_literal_characters_win()
    {
        var rules = "{'awx_*':{'action':'allow'},'awx_*_job':{'action':'deny'},'awx_*e*_job':{'action':'deny'}}";

        Assert.Equal("rules.awx_*e*_job", RuleFor("awx_cancel_job", rules));
        Assert.Equal("rules.awx_*_job", RuleFor("awx_stop_job", rules));
        Assert.Equal("rules.awx_*", RuleFor("awx_stop", rules));
    }

    [Fact]
    public void Full_tie_is_broken_by_file_order()
    {
        Assert.Equal("rules.a*c", RuleFor("abc", "{'a*c':{'action':'allow'},'a?c':{'action':'deny'}}"));
        Assert.Equal("rules.a?c", RuleFor("abc", "{'a?c':{'action':'deny'},'a*c':{'action':'allow'}}"));
    }

    [Theory]
    [InlineData("a?c", "abc", true)]
    [InlineData("a?c", "ac", false)]
    [InlineData("a?c", "abbc", false)]
    [InlineData("a*c", "ac", true)]
    [InlineData("a*c", "abbbc", true)]
    [InlineData("a*c", "abcd", false)]
    [InlineData("*_list_*", "awx_list_jobs", true)]
    [InlineData("*_list_*", "awx_listjobs", false)]
    [InlineData("*", "", true)]
    [InlineData("srv/tools:*", "srv/tools:x", true)]
    [InlineData("awx_list_*", "AWX_LIST_JOBS", false)]
    [InlineData("awx_list", "awx_list_jobs", false)]
    public void Globs_match_names(string glob, string tool, bool matches)
    {
        var rule = RuleFor(tool, J($"{{'{glob}':{{'action':'allow'}}}}"));

        Assert.Equal(matches ? "rules." + glob : "default", rule);
    }

    [Fact]
    public void No_match_falls_to_default()
    {
        var decision = Compile(WithRules("{'a':{'action':'allow'}}")).Evaluate(Request("b"));

        Assert.Equal(PolicyAction.Deny, decision.Action);
        Assert.Equal("default", decision.Rule);
    }

    [Fact]
    public void A_rule_whose_when_fails_is_skipped_for_the_next_most_specific()
    {
        var rules = "{'awx_cancel_job':{'action':'deny','when':{'args.env':'prod'}},'awx_cancel_*':{'action':'require_approval','when':{'args.env':{'in':['prod','staging']}}},'awx_*':{'action':'allow'}}";

        Assert.Equal("rules.awx_cancel_job", RuleFor("awx_cancel_job", rules, "{'env':'prod'}"));
        Assert.Equal("rules.awx_cancel_*", RuleFor("awx_cancel_job", rules, "{'env':'staging'}"));
        Assert.Equal("rules.awx_*", RuleFor("awx_cancel_job", rules, "{'env':'dev'}"));
        Assert.Equal("rules.awx_*", RuleFor("awx_cancel_job", rules));
    }

    [Theory]
    // equality on scalars of each type
    [InlineData("{'args.env':'prod'}", "{'env':'prod'}", true)]
    [InlineData("{'args.env':'prod'}", "{'env':'Prod'}", false)]
    [InlineData("{'args.count':1}", "{'count':1.0}", true)]
    [InlineData("{'args.count':1}", "{'count':'1'}", false)]
    [InlineData("{'args.count':0.1}", "{'count':0.10}", true)]
    [InlineData("{'args.force':true}", "{'force':true}", true)]
    [InlineData("{'args.force':true}", "{'force':false}", false)]
    [InlineData("{'args.force':false}", "{}", false)]
    [InlineData("{'args.note':null}", "{'note':null}", true)]
    [InlineData("{'args.note':null}", "{}", false)]
    // nested paths and array indexes
    [InlineData("{'args.options.force':true}", "{'options':{'force':true}}", true)]
    [InlineData("{'args.options.force':true}", "{'options':true}", false)]
    [InlineData("{'args.items.0.id':7}", "{'items':[{'id':7},{'id':8}]}", true)]
    [InlineData("{'args.items.1.id':7}", "{'items':[{'id':7},{'id':8}]}", false)]
    [InlineData("{'args.items.5':7}", "{'items':[7]}", false)]
    [InlineData("{'args.map.0':'x'}", "{'map':{'0':'x'}}", true)]
    // operators
    [InlineData("{'args.env':{'in':['prod','staging']}}", "{'env':'staging'}", true)]
    [InlineData("{'args.env':{'in':['prod','staging']}}", "{'env':'dev'}", false)]
    [InlineData("{'args.id':{'in':[1,2,3]}}", "{'id':2}", true)]
    [InlineData("{'args.env':{'glob':'prod-*'}}", "{'env':'prod-eu'}", true)]
    [InlineData("{'args.env':{'glob':'prod-*'}}", "{'env':'dev-eu'}", false)]
    [InlineData("{'args.env':{'glob':'* *'}}", "{'env':'a b'}", true)]
    [InlineData("{'args.env':{'glob':'*'}}", "{'env':5}", false)]
    [InlineData("{'args.force':{'exists':true}}", "{'force':false}", true)]
    [InlineData("{'args.force':{'exists':true}}", "{'force':null}", false)]
    [InlineData("{'args.force':{'exists':true}}", "{}", false)]
    [InlineData("{'args.force':{'exists':false}}", "{}", true)]
    [InlineData("{'args.force':{'exists':false}}", "{'force':null}", true)]
    [InlineData("{'args.force':{'exists':false}}", "{'force':1}", false)]
    // every condition must hold
    [InlineData("{'args.a':1,'args.b':2}", "{'a':1,'b':2}", true)]
    [InlineData("{'args.a':1,'args.b':2}", "{'a':1,'b':3}", false)]
    [InlineData("{}", "{}", true)]
    public void When_on_arguments(string when, string args, bool holds) =>
        Assert.Equal(holds ? "rules.x" : "default", RuleFor("x", J($"{{'x':{{'action':'allow','when':{when}}}}}"), args));

    [Fact]
    public void When_with_no_arguments_only_exists_false_holds()
    {
        Assert.Equal("default", RuleFor("x", "{'x':{'action':'allow','when':{'args.a':1}}}"));
        Assert.Equal("rules.x", RuleFor("x", "{'x':{'action':'allow','when':{'args.a':{'exists':false}}}}"));
    }

    [Theory]
    [InlineData("{'readOnlyHint':true}", "rules.*")]
    [InlineData("{'readOnlyHint':false}", "default")]
    [InlineData("{'destructiveHint':true}", "default")]
    [InlineData("{}", "default")]
    [InlineData(null, "default")]
    public void When_on_annotations(string? annotations, string rule) =>
        Assert.Equal(rule, RuleFor("any_tool", "{'*':{'action':'allow','when':{'annotations.readOnlyHint':true}}}", annotations: annotations));

    [Fact]
    public void Annotation_conditions_combine_with_argument_conditions()
    {
        var rules = "{'*':{'action':'require_approval','when':{'annotations.destructiveHint':true,'annotations.title':{'glob':'Cancel*'},'args.id':{'exists':true}}}}";

        Assert.Equal("rules.*", RuleFor("t", rules, "{'id':1}", "{'destructiveHint':true,'title':'Cancel job'}"));
        Assert.Equal("default", RuleFor("t", rules, "{'id':1}", "{'destructiveHint':true,'title':'List jobs'}"));
        Assert.Equal("default", RuleFor("t", rules, "{}", "{'destructiveHint':true,'title':'Cancel job'}"));
    }

    [Fact]
    public void Identity_with_default_replaces_the_global_policy()
    {
        var policy = Compile(WithRules(
            "{'awx_cancel_job':{'action':'allow'},'awx_*':{'action':'allow'}}",
            ",'identities':{'ci-bot':{'default':'deny','rules':{'awx_list_*':{'action':'allow'}}}}"));

        Assert.Equal("identities.ci-bot.rules.awx_list_*", policy.Evaluate(Request("awx_list_jobs", agent: "ci-bot")).Rule);
        var denied = policy.Evaluate(Request("awx_cancel_job", agent: "ci-bot"));
        Assert.Equal("identities.ci-bot.default", denied.Rule);
        Assert.Equal(PolicyAction.Deny, denied.Action);
        // other agents get the global policy
        Assert.Equal("rules.awx_cancel_job", policy.Evaluate(Request("awx_cancel_job", agent: "someone")).Rule);
        Assert.Equal("rules.awx_*", policy.Evaluate(Request("awx_list_jobs", agent: "CI-BOT")).Rule);
    }

    [Fact]
    public void Identity_without_default_is_consulted_before_the_global_rules()
    {
        var policy = Compile(WithRules(
            "{'awx_cancel_job':{'action':'require_approval'},'awx_list_*':{'action':'allow'}}",
            ",'identities':{'ops':{'rules':{'awx_*':{'action':'allow'}}},'readonly':{'rules':{'awx_list_secrets':{'action':'deny'}}}}"));

        // an identity glob wins over a global exact name: the identity is consulted first
        Assert.Equal("identities.ops.rules.awx_*", policy.Evaluate(Request("awx_cancel_job", agent: "ops")).Rule);
        // then the global rules, then the global default
        Assert.Equal("identities.readonly.rules.awx_list_secrets", policy.Evaluate(Request("awx_list_secrets", agent: "readonly")).Rule);
        Assert.Equal("rules.awx_list_*", policy.Evaluate(Request("awx_list_jobs", agent: "readonly")).Rule);
        Assert.Equal("default", policy.Evaluate(Request("other", agent: "readonly")).Rule);
        Assert.Equal(4, policy.RuleCount);
    }

    [Fact]
    public void Identity_rule_with_failing_when_falls_through()
    {
        var policy = Compile(WithRules(
            "{'x':{'action':'require_approval'}}",
            ",'identities':{'ops':{'default':'allow','rules':{'x':{'action':'deny','when':{'args.env':'prod'}}}}}"));

        Assert.Equal("identities.ops.rules.x", policy.Evaluate(Request("x", "{'env':'prod'}", agent: "ops")).Rule);
        Assert.Equal("identities.ops.default", policy.Evaluate(Request("x", "{'env':'dev'}", agent: "ops")).Rule);
    }

    [Fact]
    public void Hidden_tools_are_denied_with_rule_hide_for_every_agent()
    {
        var policy = Compile(WithRules(
            "{'awx_delete_inventory':{'action':'allow'},'*':{'action':'allow'}}",
            ",'hide':['awx_delete_inventory','internal_*','debug_?'],'identities':{'root':{'default':'allow'}}"));

        Assert.True(policy.IsHidden("awx_delete_inventory"));
        Assert.True(policy.IsHidden("internal_reset"));
        Assert.True(policy.IsHidden("debug_x"));
        Assert.False(policy.IsHidden("debug_xy"));
        Assert.False(policy.IsHidden("awx_delete_inventory2"));
        Assert.False(policy.IsHidden("awx_list_jobs"));

        foreach (var agent in new[] { "agent", "root" })
        {
            var decision = policy.Evaluate(Request("internal_reset", agent: agent));
            Assert.Equal(PolicyAction.Deny, decision.Action);
            Assert.Equal("hide", decision.Rule);
        }

        Assert.Equal("rules.*", policy.Evaluate(Request("awx_list_jobs")).Rule);
        Assert.Equal("default deny, 2 rules, 3 hidden, 1 identity", policy.Summary);
    }

    [Fact]
    public void Group_approvers_expand_in_place_and_deduplicate_in_order()
    {
        var policy = Compile(WithRules(
            "{'x':{'action':'require_approval','approvers':['console:alice','group:sre','slack:U2','group:dba','teams:T1']}}",
            ",'groups':{'sre':['slack:U1','slack:U2','teams:T1'],'dba':['console:alice','console:bob']}"));

        Assert.Equal(
            ["console:alice", "slack:U1", "slack:U2", "teams:T1", "console:bob"],
            policy.Evaluate(Request("x")).Approvers);
        Assert.Equal(["slack:U1", "slack:U2", "teams:T1"], policy.Groups["sre"]);
    }

    [Fact]
    public void Approvals_required_may_equal_the_number_of_expanded_approvers()
    {
        var decision = Compile(WithRules(
            "{'x':{'action':'require_approval','approvers':['group:sre'],'approvals_required':2}}",
            ",'groups':{'sre':['slack:U1','slack:U2']}")).Evaluate(Request("x"));

        Assert.Equal(2, decision.ApprovalsRequired);
    }

    [Fact]
    public void Explain_lists_candidates_in_precedence_order()
    {
        var policy = Compile(WithRules(
            "{'*':{'action':'allow'},'awx_*':{'action':'allow','when':{'args.env':'dev'}},'awx_cancel_job':{'action':'deny','when':{'args.env':'prod'}}}",
            ",'identities':{'ops':{'rules':{'awx_c*':{'action':'require_approval'}}}}"));

        var explanation = policy.Explain(Request("awx_cancel_job", "{'env':'test'}"));

        Assert.Equal("rules.*", explanation.Decision.Rule);
        Assert.Equal(
            [
                new PolicyCandidate("rules.awx_cancel_job", false, "args.env"),
                new PolicyCandidate("rules.awx_*", false, "args.env"),
                new PolicyCandidate("rules.*", true, null),
            ],
            explanation.Candidates);

        var forOps = policy.Explain(Request("awx_cancel_job", agent: "ops"));
        Assert.Equal("identities.ops.rules.awx_c*", forOps.Decision.Rule);
        Assert.Equal("identities.ops.rules.awx_c*", forOps.Candidates[0].Rule);
        Assert.Equal(4, forOps.Candidates.Count);
    }

    [Fact]
    public void Many_globs_keep_specificity()
    {
        // 1,000 rules with shared prefixes, shuffled into the file, must still pick the longest prefix.
        var names = Enumerable.Range(0, 1000).Select(i => i % 2 == 0 ? $"'tool_{i}'" : $"'tool_{i}*'").ToList();
        var random = new Random(42);
        var shuffled = names.OrderBy(_ => random.Next()).ToList();
        shuffled.Add("'tool_*'");
        shuffled.Add("'t*'");
        var policy = Compile(WithRules("{" + string.Join(",", shuffled.Select(n => n + ":{'action':'allow'}")) + "}"));

        Assert.Equal(1002, policy.RuleCount);
        Assert.Equal("rules.tool_123*", policy.Evaluate(Request("tool_1234")).Rule);
        Assert.Equal("rules.tool_12", policy.Evaluate(Request("tool_12")).Rule);
        Assert.Equal("rules.tool_1*", policy.Evaluate(Request("tool_1x")).Rule);
        Assert.Equal("rules.tool_*", policy.Evaluate(Request("tool_x")).Rule);
        Assert.Equal("rules.t*", policy.Evaluate(Request("tx")).Rule);
        Assert.Equal("default", policy.Evaluate(Request("x")).Rule);
    }

    [Fact]
    public void Evaluation_is_safe_from_many_threads()
    {
        var policy = Compile(PolicyTestData.DesignExample);
        var request = Request("awx_list_jobs", agent: "ci-bot");

        Parallel.For(0, 10_000, _ => Assert.Equal("identities.ci-bot.rules.awx_list_*", policy.Evaluate(request).Rule));
    }
}
