using System.Text.Json;
using System.Text.RegularExpressions;
using PolicyFile = ApprovalBot.Core.Policy.Policy;

namespace ApprovalBot.Core.Tests.Policy;

public class PolicySchemaTests
{
    private static readonly string[] TopLevelFields = ["$schema", "version", "default", "mode", "hide", "rules", "groups", "identities", "redact"];
    private static readonly string[] RuleFields = ["action", "reason", "approvers", "timeout", "rate_limit", "when", "wait", "hold", "approvals_required", "grants", "grant_scope", "editable", "escalate"];

    private static string RepoFile(string relative)
    {
        // Tests run from bin/<config>/<tfm>; walk up to the folder that holds the solution.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ApprovalBot.sln")))
            {
                return File.ReadAllText(Path.Combine(dir.FullName, relative));
            }
        }

        throw new InvalidOperationException("ApprovalBot.sln not found above " + AppContext.BaseDirectory);
    }

    private static JsonElement Schema() => JsonSerializer.Deserialize<JsonElement>(RepoFile("schemas/policy.schema.json"));

    private static string[] PropertyNames(JsonElement objectSchema) =>
        objectSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToArray();

    [Fact]
    public void Schema_is_json_with_a_draft_and_a_closed_top_level()
    {
        var schema = Schema();

        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.GetProperty("$schema").GetString());
        Assert.False(schema.GetProperty("additionalProperties").GetBoolean());
        Assert.Equal(["version", "default"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Schema_describes_every_top_level_field()
    {
        Assert.Equal(TopLevelFields.Order(), PropertyNames(Schema()).Order());
    }

    [Fact]
    public void Schema_describes_every_rule_field_and_closes_nested_objects()
    {
        var defs = Schema().GetProperty("$defs");
        var rule = defs.GetProperty("rule");

        Assert.Equal(RuleFields.Order(), PropertyNames(rule).Order());
        Assert.False(rule.GetProperty("additionalProperties").GetBoolean());
        Assert.False(rule.GetProperty("properties").GetProperty("rate_limit").GetProperty("additionalProperties").GetBoolean());
        Assert.False(Schema().GetProperty("properties").GetProperty("identities").GetProperty("additionalProperties").GetProperty("additionalProperties").GetBoolean());
        Assert.Equal(
            ["allow", "deny", "require_approval"],
            defs.GetProperty("action").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(
            ["block", "retry"],
            rule.GetProperty("properties").GetProperty("wait").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Schema_patterns_agree_with_the_parser()
    {
        var defs = Schema().GetProperty("$defs");
        var glob = new Regex(defs.GetProperty("toolPattern").GetProperty("pattern").GetString()!);
        var duration = new Regex(defs.GetProperty("duration").GetProperty("pattern").GetString()!);

        foreach (var name in new[] { "awx_list_*", "a?c", "srv/tools:x-1.2" })
        {
            Assert.Matches(glob, name);
        }

        foreach (var name in new[] { "a**", "a b", "a[b]" })
        {
            Assert.DoesNotMatch(glob, name);
        }

        foreach (var text in new[] { "30s", "15m", "1h30m", "2d", "500ms", "1d2h3m4s5ms" })
        {
            Assert.Matches(duration, text);
            Assert.True(ApprovalBot.Core.Policy.PolicyDuration.TryParse(text, out _));
        }

        foreach (var text in new[] { "", "15", "30m1h", "1.5h", "15 m" })
        {
            Assert.DoesNotMatch(duration, text);
            Assert.False(ApprovalBot.Core.Policy.PolicyDuration.TryParse(text, out _));
        }
    }

    [Fact]
    public void Every_json_example_in_the_docs_is_a_valid_policy()
    {
        var blocks = Regex.Matches(RepoFile("docs/policy.md"), "```json\\n(.*?)```", RegexOptions.Singleline);

        Assert.NotEmpty(blocks);
        foreach (Match block in blocks)
        {
            var result = PolicyFile.Parse(block.Groups[1].Value);
            Assert.True(result.Success, string.Join("\n", result.Errors));
        }
    }

    [Fact]
    public void Docs_mention_every_field()
    {
        var docs = RepoFile("docs/policy.md");

        foreach (var field in TopLevelFields.Concat(RuleFields))
        {
            Assert.Contains($"`{field}`", docs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Docs_example_behaves_as_described()
    {
        var json = Regex.Match(RepoFile("docs/policy.md"), "```json\\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        var policy = PolicyTestData.Compile(json);

        Assert.Equal("rules.awx_cancel_job", policy.Evaluate(PolicyTestData.Request("awx_cancel_job", "{'environment':'prod'}")).Rule);
        Assert.Equal(2, policy.Evaluate(PolicyTestData.Request("awx_cancel_job", "{'environment':'prod'}")).ApprovalsRequired);
        Assert.Equal("rules.awx_cancel_*", policy.Evaluate(PolicyTestData.Request("awx_cancel_job", "{'environment':'dev'}")).Rule);
        Assert.Equal("identities.ci-bot.default", policy.Evaluate(PolicyTestData.Request("awx_cancel_job", agent: "ci-bot")).Rule);
        Assert.Equal("identities.ops-agent.rules.awx_cancel_job", policy.Evaluate(PolicyTestData.Request("awx_cancel_job", agent: "ops-agent")).Rule);
        Assert.Equal("rules.agentwork_cancel_task", policy.Evaluate(PolicyTestData.Request("agentwork_cancel_task", agent: "ops-agent")).Rule);
    }
}
