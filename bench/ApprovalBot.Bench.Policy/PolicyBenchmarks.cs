using System.Text;
using System.Text.Json;
using ApprovalBot.Core.Policy;
using BenchmarkDotNet.Attributes;

namespace ApprovalBot.Bench.Policy;

/// <summary>
/// <see cref="Core.Policy.Policy.Evaluate"/> on policies of 10, 1,000 and 10,000 rules: a third exact
/// names, a third globs, a third globs with <c>when</c> conditions on arguments and annotations.
/// The request is built once, as the gateway builds it before asking; the measured part is the decision.
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private Core.Policy.Policy _policy = null!;
    private string _json = "";
    private PolicyRequest _exact = null!;
    private PolicyRequest _glob = null!;
    private PolicyRequest _when = null!;
    private PolicyRequest _whenFails = null!;
    private PolicyRequest _noMatch = null!;

    [Params(10, 1_000, 10_000)]
    public int Rules { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _json = Generate(Rules);
        var parsed = Core.Policy.Policy.Parse(_json);
        _policy = parsed.Policy ?? throw new InvalidOperationException(string.Join("; ", parsed.Errors));
        var middle = Rules / 2;
        int Aligned(int remainder) => Enumerable.Range(0, Rules).Where(i => i % 3 == remainder).OrderBy(i => Math.Abs(i - middle)).First();
        var arguments = JsonSerializer.SerializeToElement(new { environment = "staging", replicas = 3, options = new { force = false } });
        var production = JsonSerializer.SerializeToElement(new { environment = "prod", replicas = 3 });
        var annotations = JsonSerializer.SerializeToElement(new { readOnlyHint = true, destructiveHint = false });
        _exact = new PolicyRequest("agent-1", $"tool_{Aligned(0)}", arguments, annotations);
        _glob = new PolicyRequest("agent-1", $"svc{Aligned(1)}_restart", arguments, annotations);
        _when = new PolicyRequest("agent-1", $"ops{Aligned(2)}_deploy", arguments, annotations);
        _whenFails = new PolicyRequest("agent-1", $"ops{Aligned(2)}_deploy", production, annotations);
        _noMatch = new PolicyRequest("agent-1", "unknown_tool_name", arguments, annotations);
        Check(_exact, PolicyAction.Allow);
        Check(_glob, PolicyAction.Allow);
        Check(_when, PolicyAction.Allow);
        Check(_whenFails, PolicyAction.Deny);
        Check(_noMatch, PolicyAction.Deny);
    }

    /// <summary>Every evaluated case of this size, named as in the table (for the allocation check).</summary>
    public IReadOnlyList<(string Case, PolicyRequest Request)> Requests() =>
    [
        ("allow: exact name", _exact),
        ("allow: glob", _glob),
        ("allow: glob + when (args, annotations)", _when),
        ("when fails → default deny", _whenFails),
        ("no rule → default deny", _noMatch),
    ];

    public Core.Policy.Policy Policy => _policy;

    [Benchmark(Description = "allow: exact name")]
    public PolicyDecision Exact() => _policy.Evaluate(_exact);

    [Benchmark(Description = "allow: glob")]
    public PolicyDecision Glob() => _policy.Evaluate(_glob);

    [Benchmark(Description = "allow: glob + when (args, annotations)")]
    public PolicyDecision When() => _policy.Evaluate(_when);

    [Benchmark(Description = "when fails → default deny")]
    public PolicyDecision WhenFails() => _policy.Evaluate(_whenFails);

    [Benchmark(Description = "no rule → default deny")]
    public PolicyDecision NoMatch() => _policy.Evaluate(_noMatch);

    [Benchmark(Description = "parse + compile the file (reload)")]
    public Core.Policy.Policy? Parse() => Core.Policy.Policy.Parse(_json).Policy;

    /// <summary>The benchmark's policy file: rule i is <c>tool_i</c> (exact), <c>svc{i}_*</c> (glob) or <c>ops{i}_*</c> (glob + when), by i mod 3.</summary>
    public static string Generate(int rules)
    {
        var text = new StringBuilder("{\n  \"version\": \"1\",\n  \"default\": \"deny\",\n  \"rules\": {\n");
        for (var i = 0; i < rules; i++)
        {
            text.Append("    ");
            text.Append((i % 3) switch
            {
                0 => $$"""
                      "tool_{{i}}": { "action": "allow" }
                      """,
                1 => $$"""
                      "svc{{i}}_*": { "action": "allow", "reason": "service {{i}}" }
                      """,
                _ => $$"""
                      "ops{{i}}_*": { "action": "allow", "when": { "args.environment": { "in": ["dev", "staging"] }, "annotations.readOnlyHint": true } }
                      """,
            });
            text.Append(i == rules - 1 ? "\n" : ",\n");
        }

        return text.Append("  }\n}\n").ToString();
    }

    private void Check(PolicyRequest request, PolicyAction expected)
    {
        var decision = _policy.Evaluate(request);
        if (decision.Action != expected)
        {
            throw new InvalidOperationException($"{request.Tool}: expected {expected}, got {decision.Action} by {decision.Rule}");
        }
    }
}
