using System.Collections.Frozen;
using System.Globalization;
using ApprovalBot.Core.Redaction;

namespace ApprovalBot.Core.Policy;

/// <summary>
/// A compiled policy file: immutable and thread-safe. Parse once (at start-up or on reload), then
/// call <see cref="Evaluate"/> per tool call; evaluation does not allocate.
/// </summary>
public sealed class Policy
{
    private readonly RuleSet _rules;
    private readonly GlobTable<string> _hide;
    private readonly FrozenDictionary<string, IdentityPolicy> _identities;
    private readonly PolicyDecision _defaultDecision;
    private readonly PolicyDecision _hideDecision;
    private readonly FrozenDictionary<string, PolicyDecision> _byRule;

    internal Policy(
        PolicyMode mode,
        PolicyAction defaultAction,
        RuleSet rules,
        IReadOnlyList<string> hide,
        IReadOnlyList<IdentityPolicy> identities,
        IReadOnlyDictionary<string, IReadOnlyList<string>> groups,
        RedactionRules redaction)
    {
        Redaction = redaction;
        Mode = mode;
        Default = defaultAction;
        _rules = rules;
        HiddenPatterns = hide;
        _hide = new GlobTable<string>(hide.Select(h => (Glob.Create(h), h)));
        _identities = identities.ToFrozenDictionary(i => i.Agent, StringComparer.Ordinal);
        Groups = groups;
        _defaultDecision = Decide(defaultAction, "default");
        _hideDecision = Decide(PolicyAction.Deny, "hide");
        RuleCount = rules.Count + identities.Sum(i => i.Rules.Count);
        _byRule = rules.All.Concat(identities.SelectMany(i => i.Rules.All))
            .Select(r => r.Decision)
            .ToFrozenDictionary(d => d.Rule, StringComparer.Ordinal);
        Identities = identities.Select(i => i.Agent).ToArray();

        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"default {defaultAction.ToWireName()}, {Plural(rules.Count, "rule", "rules")}, {hide.Count} hidden, {Plural(identities.Count, "identity", "identities")}");
        Summary = mode == PolicyMode.Shadow ? summary + ", shadow mode" : summary;
    }

    public PolicyMode Mode { get; }

    /// <summary>The global <c>default</c> action.</summary>
    public PolicyAction Default { get; }

    /// <summary>Global rules plus every identity's rules.</summary>
    public int RuleCount { get; }

    /// <summary>
    /// One line for status output and heartbeats, e.g. <c>default deny, 4 rules, 1 hidden, 1 identity</c>.
    /// The rule count here is the global rules; identity rules are counted in <see cref="RuleCount"/>.
    /// </summary>
    public string Summary { get; }

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Groups { get; }

    /// <summary>The <c>hide</c> entries as written.</summary>
    public IReadOnlyList<string> HiddenPatterns { get; }

    /// <summary>The <c>redact</c> option: site-specific argument names and value patterns to mask (on top of the built-in rules).</summary>
    public RedactionRules Redaction { get; }

    /// <summary>The agent identities that have an entry under <c>identities</c>.</summary>
    public IReadOnlyList<string> Identities { get; }

    /// <summary>Parses and validates a policy file. Never throws on bad input: every problem is returned.</summary>
    public static PolicyParseResult Parse(string json) => new PolicyParser().Parse(json);

    /// <summary>True when any <c>hide</c> glob matches <paramref name="tool"/>.</summary>
    public bool IsHidden(string tool) =>
        tool is not null && _hide.FindFirst(tool, 0, static (_, _) => true) is not null;

    /// <summary>
    /// Decides a call. Hidden tools are denied with rule <c>hide</c>; then the agent's identity rules
    /// (and, when the identity has its own default, only those), then the global rules, then the default.
    /// Among matching rules whose <c>when</c> holds, the most specific wins.
    /// </summary>
    public PolicyDecision Evaluate(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tool = request.Tool ?? string.Empty;
        if (IsHidden(tool))
        {
            return _hideDecision;
        }

        if (request.Agent is { } agent && _identities.TryGetValue(agent, out var identity))
        {
            var own = identity.Rules.Find(tool, request);
            if (own is not null)
            {
                return own.Decision;
            }

            if (identity.DefaultDecision is { } identityDefault)
            {
                return identityDefault;
            }
        }

        return _rules.Find(tool, request)?.Decision ?? _defaultDecision;
    }

    /// <summary>
    /// The rule at <paramref name="rule"/> (a <see cref="PolicyDecision.Rule"/> path such as
    /// <c>rules.awx_cancel_job</c>), or null when this policy has no such rule: what a policy reload
    /// asks about the rules that allowed existing grants.
    /// </summary>
    public PolicyDecision? FindRule(string rule) => _byRule.GetValueOrDefault(rule);

    /// <summary>
    /// <see cref="Evaluate"/> with its reasoning: every rule whose name or glob matches the tool, in the
    /// order consulted, and whether its <c>when</c> held. For <c>policy explain</c>; allocates.
    /// </summary>
    public PolicyExplanation Explain(PolicyRequest request)
    {
        var decision = Evaluate(request);
        var tool = request.Tool ?? string.Empty;
        var candidates = new List<PolicyCandidate>();
        if (!IsHidden(tool))
        {
            var consultGlobal = true;
            if (request.Agent is { } agent && _identities.TryGetValue(agent, out var identity))
            {
                identity.Rules.Explain(tool, request, candidates);
                consultGlobal = identity.DefaultDecision is null;
            }

            if (consultGlobal)
            {
                _rules.Explain(tool, request, candidates);
            }
        }

        return new PolicyExplanation(decision, candidates);
    }

    internal static PolicyDecision Decide(PolicyAction action, string rule) =>
        new(action, rule, Reason: null, RateLimit: null, Approvers: [], Timeout: null, ApprovalWait.Block, ApprovalsRequired: 1);

    private static string Plural(int count, string one, string many) =>
        string.Create(CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many)}");
}

/// <summary>One compiled rule: its key, its conditions and the decision it produces (built once).</summary>
internal sealed class CompiledRule(Glob glob, Condition[] conditions, PolicyDecision decision)
{
    public Glob Glob { get; } = glob;

    public PolicyDecision Decision { get; } = decision;

    public bool ConditionsHold(PolicyRequest request) => FirstFailedCondition(request) is null;

    public string? FirstFailedCondition(PolicyRequest request)
    {
        foreach (var condition in conditions)
        {
            if (!condition.Holds(request))
            {
                return condition.Key;
            }
        }

        return null;
    }
}

/// <summary>The rules of one scope (global, or one identity), indexed for most-specific-first lookup.</summary>
internal sealed class RuleSet(IReadOnlyList<CompiledRule> rules)
{
    private readonly GlobTable<CompiledRule> _table = new(rules.Select(r => (r.Glob, r)));

    public int Count { get; } = rules.Count;

    public IReadOnlyList<CompiledRule> All { get; } = rules;

    public CompiledRule? Find(string tool, PolicyRequest request) =>
        _table.FindFirst(tool, request, static (rule, r) => rule.ConditionsHold(r));

    public void Explain(string tool, PolicyRequest request, List<PolicyCandidate> into)
    {
        foreach (var rule in _table.Candidates(tool))
        {
            var failed = rule.FirstFailedCondition(request);
            into.Add(new PolicyCandidate(rule.Decision.Rule, failed is null, failed));
        }
    }
}

/// <summary>An <c>identities</c> entry. With a default it replaces the global policy for that agent.</summary>
internal sealed record IdentityPolicy(string Agent, RuleSet Rules, PolicyDecision? DefaultDecision);
