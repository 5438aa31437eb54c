using ApprovalBot.Core.Policy;
using static ApprovalBot.Core.Tests.Policy.PolicyTestData;
using PolicyFile = ApprovalBot.Core.Policy.Policy;

namespace ApprovalBot.Core.Tests.Policy;

public class PolicyValidationTests
{
    /// <summary>Parses, asserts failure, and returns the errors.</summary>
    private static IReadOnlyList<PolicyError> Errors(string json)
    {
        var result = PolicyFile.Parse(json);
        Assert.False(result.Success);
        Assert.Null(result.Policy);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    private static void AssertError(string json, string path, string fragment)
    {
        var errors = Errors(json);
        Assert.True(
            errors.Any(e => e.Path == path && e.Message.Contains(fragment, StringComparison.Ordinal)),
            $"expected an error at {path} containing '{fragment}'; got:\n{string.Join("\n", errors)}");
    }

    [Theory]
    // unknown fields, with and without a hint
    [InlineData("{'version':'1','default':'deny','rules':{'awx_cancel_job':{'acton':'deny'}}}", "$.rules.awx_cancel_job.acton", "unknown field \"acton\"; did you mean \"action\"?")]
    [InlineData("{'version':'1','defualt':'deny'}", "$.defualt", "did you mean \"default\"?")]
    [InlineData("{'version':'1','default':'deny','colour':'red'}", "$.colour", "unknown field \"colour\"; expected \"$schema\", \"version\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rateLimit':{}}}}", "$.rules.x.rateLimit", "did you mean \"rate_limit\"?")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvalsRequired':2}}}", "$.rules.x.approvalsRequired", "did you mean \"approvals_required\"?")]
    [InlineData("{'version':'1','default':'deny','identities':{'ci-bot':{'defaults':'deny'}}}", "$.identities[\"ci-bot\"].defaults", "did you mean \"default\"?")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rate_limit':{'max':1,'windows':5}}}}", "$.rules.x.rate_limit.windows", "did you mean \"window\"?")]
    // missing required fields
    [InlineData("{'default':'deny'}", "$", "missing required field \"version\"")]
    [InlineData("{'version':'1'}", "$", "missing required field \"default\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'reason':'r'}}}", "$.rules.x", "missing required field \"action\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rate_limit':{'max':1}}}}", "$.rules.x.rate_limit", "missing required field \"window\"")]
    // wrong types
    [InlineData("{'version':1,'default':'deny'}", "$.version", "expected a string, got a number")]
    [InlineData("{'version':'1','default':true}", "$.default", "expected a string, got a boolean")]
    [InlineData("{'version':'1','default':'deny','$schema':5}", "$[\"$schema\"]", "expected a string, got a number")]
    [InlineData("{'version':'1','default':'deny','hide':'awx_*'}", "$.hide", "expected an array, got a string")]
    [InlineData("{'version':'1','default':'deny','hide':[5]}", "$.hide[0]", "expected a string, got a number")]
    [InlineData("{'version':'1','default':'deny','rules':[]}", "$.rules", "expected an object, got an array")]
    [InlineData("{'version':'1','default':'deny','groups':null}", "$.groups", "expected an object, got null")]
    [InlineData("{'version':'1','default':'deny','identities':{'a':'deny'}}", "$.identities.a", "expected an object, got a string")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':'allow'}}", "$.rules.x", "expected an object, got a string; write {\"action\": \"allow\"}")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':5}}", "$.rules.x", "expected an object, got a number")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'deny','reason':['a']}}}", "$.rules.x.reason", "expected a string, got an array")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':'slack:U1'}}}", "$.rules.x.approvers", "expected an array of strings, got a string")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':[1]}}}", "$.rules.x.approvers[0]", "expected a string, got a number")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','timeout':900}}}", "$.rules.x.timeout", "expected a string, got a number")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rate_limit':10}}}", "$.rules.x.rate_limit", "expected an object, got a number")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rate_limit':{'max':'10','window':1}}}}", "$.rules.x.rate_limit.max", "expected an integer, got a string")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rate_limit':{'max':1.5,'window':1}}}}", "$.rules.x.rate_limit.max", "expected an integer, got 1.5")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':[]}}}", "$.rules.x.when", "expected an object, got an array")]
    // version and enum values
    [InlineData("{'version':'2','default':'deny'}", "$.version", "unsupported version \"2\"; expected \"1\"")]
    [InlineData("{'version':'1','default':'alow'}", "$.default", "invalid action \"alow\"; expected \"allow\", \"deny\" or \"require_approval\"; did you mean \"allow\"?")]
    [InlineData("{'version':'1','default':'block'}", "$.default", "invalid action \"block\"; expected \"allow\", \"deny\" or \"require_approval\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'awx_list_*':{'action':'permit'}}}", "$.rules[\"awx_list_*\"].action", "invalid action \"permit\"")]
    [InlineData("{'version':'1','default':'deny','mode':'audit'}", "$.mode", "invalid mode \"audit\"; expected \"enforce\" or \"shadow\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','wait':'poll'}}}", "$.rules.x.wait", "invalid wait \"poll\"; expected \"block\" or \"retry\"")]
    // globs
    [InlineData("{'version':'1','default':'deny','rules':{'awx**':{'action':'deny'}}}", "$.rules[\"awx**\"]", "\"**\" is not allowed")]
    [InlineData("{'version':'1','default':'deny','rules':{'':{'action':'deny'}}}", "$.rules[\"\"]", "must not be empty")]
    [InlineData("{'version':'1','default':'deny','rules':{'awx list':{'action':'deny'}}}", "$.rules[\"awx list\"]", "character \" \" is not allowed")]
    [InlineData("{'version':'1','default':'deny','rules':{'awx_[ab]':{'action':'deny'}}}", "$.rules[\"awx_[ab]\"]", "character \"[\" is not allowed")]
    [InlineData("{'version':'1','default':'deny','hide':['ok_*','bad{x}']}", "$.hide[1]", "character \"{\" is not allowed")]
    [InlineData("{'version':'1','default':'deny','hide':['']}", "$.hide[0]", "must not be empty")]
    [InlineData("{'version':'1','default':'deny','identities':{'ci-bot':{'rules':{'a**':{'action':'allow'}}}}}", "$.identities[\"ci-bot\"].rules[\"a**\"]", "\"**\" is not allowed")]
    // approvers and groups
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':['slack:U1','group:ops']}}}", "$.rules.x.approvers[1]", "unknown group \"ops\"; define it under \"groups\"")]
    [InlineData("{'version':'1','default':'deny','groups':{'sre':['slack:U1']},'rules':{'x':{'action':'require_approval','approvers':['group:sres']}}}", "$.rules.x.approvers[0]", "unknown group \"sres\"; did you mean \"sre\"?")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':['bob']}}}", "$.rules.x.approvers[0]", "invalid approver \"bob\": expected slack:<user id>")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':['email:bob@example.com']}}}", "$.rules.x.approvers[0]", "unknown prefix \"email\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':['Slack:U1']}}}", "$.rules.x.approvers[0]", "did you mean \"slack\"?")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':['slack:']}}}", "$.rules.x.approvers[0]", "must be a non-empty id")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':['console:alice smith']}}}", "$.rules.x.approvers[0]", "without spaces")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':[]}}}", "$.rules.x.approvers", "empty approvers list is not allowed")]
    [InlineData("{'version':'1','default':'deny','groups':{'a':['group:b'],'b':['slack:U1']}}", "$.groups.a[0]", "a group cannot contain another group")]
    [InlineData("{'version':'1','default':'deny','groups':{'a':[]}}", "$.groups.a", "a group needs at least one member")]
    [InlineData("{'version':'1','default':'deny','groups':{'a':['pager:x']}}", "$.groups.a[0]", "unknown prefix \"pager\"")]
    [InlineData("{'version':'1','default':'deny','groups':{'on call':['slack:U1']}}", "$.groups[\"on call\"]", "invalid group name \"on call\"")]
    [InlineData("{'version':'1','default':'deny','identities':{'ci-bot':{'rules':{'x':{'action':'require_approval','approvers':['group:nope']}}}}}", "$.identities[\"ci-bot\"].rules.x.approvers[0]", "unknown group \"nope\"")]
    // options that only apply to require_approval
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','approvers':['slack:U1']}}}", "$.rules.x.approvers", "\"approvers\" only applies to action \"require_approval\", not \"allow\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'deny','timeout':'5m'}}}", "$.rules.x.timeout", "\"timeout\" only applies to action \"require_approval\", not \"deny\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','wait':'retry'}}}", "$.rules.x.wait", "\"wait\" only applies to action \"require_approval\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'deny','approvals_required':2}}}", "$.rules.x.approvals_required", "\"approvals_required\" only applies to action \"require_approval\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'deny','rate_limit':{'max':1,'window':1}}}}", "$.rules.x.rate_limit", "no effect on action \"deny\"")]
    // numbers and durations
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rate_limit':{'max':0,'window':60}}}}", "$.rules.x.rate_limit.max", "must be at least 1, got 0")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','rate_limit':{'max':1,'window':-5}}}}", "$.rules.x.rate_limit.window", "must be at least 1, got -5")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvals_required':0}}}", "$.rules.x.approvals_required", "must be at least 1, got 0")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','approvers':['slack:U1','slack:U2'],'approvals_required':3}}}", "$.rules.x.approvals_required", "3 approvals required but only 2 distinct approver(s)")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','timeout':'15 minutes'}}}", "$.rules.x.timeout", "invalid duration \"15 minutes\"; expected e.g. \"30s\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','timeout':'0s'}}}", "$.rules.x.timeout", "timeout must be greater than zero")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'require_approval','timeout':'30m1h'}}}", "$.rules.x.timeout", "invalid duration \"30m1h\"")]
    // when
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'arg.force':true}}}}", "$.rules.x.when[\"arg.force\"]", "expected \"args.<path>\" or \"annotations.<name>\"; did you mean \"args.force\"?")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'force':true}}}}", "$.rules.x.when.force", "invalid condition key \"force\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args':true}}}}", "$.rules.x.when.args", "invalid condition key \"args\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.a..b':true}}}}", "$.rules.x.when[\"args.a..b\"]", "empty path segment")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'annotations.readonlyHint':true}}}}", "$.rules.x.when[\"annotations.readonlyHint\"]", "unknown annotation \"readonlyHint\"; expected \"title\", \"readOnlyHint\", \"destructiveHint\", \"idempotentHint\" or \"openWorldHint\"; did you mean \"readOnlyHint\"?")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'annotations.readOnlyHint':'true'}}}}", "$.rules.x.when[\"annotations.readOnlyHint\"]", "expected true or false")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'annotations.destructiveHint':{'glob':'t*'}}}}}", "$.rules.x.when[\"annotations.destructiveHint\"].glob", "cannot be used on a boolean annotation")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':['prod','staging']}}}}", "$.rules.x.when[\"args.env\"]", "write {\"in\": [...]}")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{'globb':'p*'}}}}}", "$.rules.x.when[\"args.env\"].globb", "did you mean \"glob\"?")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{}}}}}", "$.rules.x.when[\"args.env\"]", "exactly one of \"in\", \"glob\" or \"exists\"")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{'in':['a'],'glob':'b'}}}}}", "$.rules.x.when[\"args.env\"]", "exactly one of")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{'in':'prod'}}}}}", "$.rules.x.when[\"args.env\"].in", "expected an array of values, got a string")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{'in':[]}}}}}", "$.rules.x.when[\"args.env\"].in", "needs at least one value")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{'in':['a',{}]}}}}}", "$.rules.x.when[\"args.env\"].in[1]", "expected a string, number, boolean or null, got an object")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{'glob':5}}}}}", "$.rules.x.when[\"args.env\"].glob", "expected a string, got a number")]
    [InlineData("{'version':'1','default':'deny','rules':{'x':{'action':'allow','when':{'args.env':{'exists':'yes'}}}}}", "$.rules.x.when[\"args.env\"].exists", "expected a boolean, got a string")]
    // invalid JSON structure
    [InlineData("[]", "$", "expected an object, got an array")]
    [InlineData("   ", "$", "the policy file is empty")]
    public void Reports_error_at_path(string singleQuotedJson, string path, string fragment) =>
        AssertError(J(singleQuotedJson), path, fragment);

    [Fact]
    public void Hold_is_a_duration_for_require_approval_and_zero_means_hand_back_at_once()
    {
        var held = ApprovalBot.Core.Policy.Policy.Parse(J("{'version':'1','default':'deny','rules':{'t':{'action':'require_approval','hold':'25s'}}}"));
        var atOnce = ApprovalBot.Core.Policy.Policy.Parse(J("{'version':'1','default':'deny','rules':{'t':{'action':'require_approval','hold':'0s'}}}"));
        var retry = ApprovalBot.Core.Policy.Policy.Parse(J("{'version':'1','default':'deny','rules':{'t':{'action':'require_approval','wait':'retry'}}}"));

        Assert.Equal(TimeSpan.FromSeconds(25), held.Policy!.Evaluate(new PolicyRequest("a", "t", null, null)).Hold);
        Assert.Equal(TimeSpan.Zero, atOnce.Policy!.Evaluate(new PolicyRequest("a", "t", null, null)).Hold);
        Assert.Equal(TimeSpan.Zero, retry.Policy!.Evaluate(new PolicyRequest("a", "t", null, null)).Hold);
        AssertError(J("{'version':'1','default':'deny','rules':{'t':{'action':'require_approval','wait':'retry','hold':'10s'}}}"), "$.rules.t.hold", "cannot be combined");
        AssertError(J("{'version':'1','default':'deny','rules':{'t':{'action':'allow','hold':'10s'}}}"), "$.rules.t.hold", "only applies to action");
        AssertError(J("{'version':'1','default':'deny','rules':{'t':{'action':'require_approval','hold':'soon'}}}"), "$.rules.t.hold", "invalid duration");
    }

    [Fact]
    public void Duplicate_keys_are_refused()
    {
        AssertError("""{"version":"1","default":"deny","default":"allow"}""", "$.default", "duplicate key \"default\"");
        AssertError("""{"version":"1","default":"deny","rules":{"x":{"action":"allow"},"x":{"action":"deny"}}}""", "$.rules.x", "duplicate key \"x\"");
    }

    [Fact]
    public void Overlong_tool_names_are_refused()
    {
        var name = new string('a', 513);

        AssertError(WithRules($"{{'{name}':{{'action':'allow'}}}}"), $"$.rules.{name}", "at most 512 characters");
        Assert.True(PolicyFile.Parse(WithRules($"{{'{name[2..]}*':{{'action':'allow'}}}}")).Success);
    }

    [Fact]
    public void Invalid_json_is_one_error_at_root_with_line_and_position()
    {
        var errors = Errors("{\n  \"version\": \"1\",\n  \"default\" \"deny\"\n}");

        var error = Assert.Single(errors);
        Assert.Equal("$", error.Path);
        Assert.StartsWith("invalid JSON at line 3, position ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_json_is_one_error()
    {
        var error = Assert.Single(Errors("{\"version\": \"1\", \"rules\": {"));
        Assert.Equal("$", error.Path);
        Assert.Contains("invalid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_text_is_an_error_not_an_exception()
    {
        var result = PolicyFile.Parse(null!);
        Assert.False(result.Success);
        Assert.Equal("$", Assert.Single(result.Errors).Path);
    }

    [Fact]
    public void All_errors_are_collected_not_just_the_first()
    {
        var errors = Errors(J("""
            {'version':'2','default':'alow','mode':'x',
             'hide':['a**'],
             'rules':{'ok':{'action':'allow'},'bad one':{'acton':'deny'},'y':{'action':'require_approval','approvers':['group:nope'],'timeout':'soon'}},
             'identities':{'ci':{'default':'nope'}}}
            """));

        var paths = errors.Select(e => e.Path).ToArray();
        Assert.Contains("$.version", paths);
        Assert.Contains("$.default", paths);
        Assert.Contains("$.mode", paths);
        Assert.Contains("$.hide[0]", paths);
        Assert.Contains("$.rules[\"bad one\"]", paths);
        Assert.Contains("$.rules[\"bad one\"].acton", paths);
        Assert.Contains("$.rules.y.approvers[0]", paths);
        Assert.Contains("$.rules.y.timeout", paths);
        Assert.Contains("$.identities.ci.default", paths);
        Assert.DoesNotContain(errors, e => e.Path.StartsWith("$.rules.ok", StringComparison.Ordinal));
    }

    [Fact]
    public void Misplaced_approval_options_are_each_reported()
    {
        var errors = Errors(WithRules("{'x':{'action':'allow','approvers':['slack:U1'],'timeout':'1m','wait':'block','approvals_required':1}}"));

        Assert.Equal(
            ["$.rules.x.approvers", "$.rules.x.timeout", "$.rules.x.wait", "$.rules.x.approvals_required"],
            errors.Select(e => e.Path));
    }

    [Fact]
    public void A_bad_group_member_does_not_also_report_the_group_as_unknown()
    {
        var errors = Errors(J("{'version':'1','default':'deny','groups':{'sre':['oops']},'rules':{'x':{'action':'require_approval','approvers':['group:sre']}}}"));

        Assert.Equal("$.groups.sre[0]", Assert.Single(errors).Path);
    }

    [Fact]
    public void Escapes_quotes_in_bracket_paths()
    {
        var errors = Errors("""{"version":"1","default":"deny","rules":{"a\"b":{"action":"allow"}}}""");

        Assert.Equal("$.rules[\"a\\\"b\"]", Assert.Single(errors).Path);
    }
}
