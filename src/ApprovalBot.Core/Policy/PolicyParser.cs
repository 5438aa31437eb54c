using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ApprovalBot.Core.Redaction;

namespace ApprovalBot.Core.Policy;

/// <summary>
/// Validates a policy document and compiles it. One instance per parse: it accumulates every error
/// (never just the first) so an operator can fix a file in one pass.
/// </summary>
internal sealed class PolicyParser
{
    private static readonly ImmutableArray<string> RootFields = ["$schema", "version", "default", "mode", "hide", "rules", "groups", "identities", "redact"];
    private static readonly ImmutableArray<string> RedactFields = ["fields", "patterns"];
    private static readonly ImmutableArray<string> RuleFields = ["action", "reason", "approvers", "timeout", "rate_limit", "when", "wait", "hold", "approvals_required", "grants", "grant_scope", "editable", "escalate"];
    private static readonly ImmutableArray<string> ApprovalOnlyFields = ["approvers", "timeout", "wait", "hold", "approvals_required", "grants", "grant_scope", "editable", "escalate"];
    private static readonly ImmutableArray<string> EscalateFields = ["after", "to"];
    private static readonly ImmutableArray<string> IdentityFields = ["default", "rules"];
    private static readonly ImmutableArray<string> RateLimitFields = ["max", "window"];
    private static readonly ImmutableArray<string> OperatorFields = ["in", "glob", "exists"];
    private static readonly ImmutableArray<string> PrincipalPrefixes = ["slack", "teams", "console", "group"];
    private static readonly ImmutableArray<string> BooleanHints = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"];
    private static readonly ImmutableArray<string> AnnotationNames = ["title", .. BooleanHints];
    private static readonly ImmutableArray<string> ConditionRoots = ["args", "annotations"];

    private static readonly ImmutableArray<(string Name, PolicyAction Value)> Actions =
        [("allow", PolicyAction.Allow), ("deny", PolicyAction.Deny), ("require_approval", PolicyAction.RequireApproval)];

    private static readonly ImmutableArray<(string Name, PolicyMode Value)> Modes =
        [("enforce", PolicyMode.Enforce), ("shadow", PolicyMode.Shadow)];

    private static readonly ImmutableArray<(string Name, ApprovalWait Value)> Waits =
        [("block", ApprovalWait.Block), ("retry", ApprovalWait.Retry)];

    private static readonly ImmutableArray<(string Name, GrantScope Value)> GrantScopes =
        [("tool", GrantScope.Tool), ("arguments", GrantScope.Arguments)];

    /// <summary>Cards offer one "Approve for …" button per duration; Teams shows at most six actions in all.</summary>
    private const int MaxGrantDurations = 3;

    private const string PrincipalForms = "slack:<user id>, teams:<aad object id>, console:<name> or group:<name>";

    private readonly List<PolicyError> _errors = [];
    private Dictionary<string, IReadOnlyList<string>> _groups = new(StringComparer.Ordinal);

    public PolicyParseResult Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return Failed(JsonPath.Root, "the policy file is empty; expected a JSON object");
        }

        JsonDocument document;
        try
        {
            // Why comments are skipped: operators annotate policies; nothing else is relaxed.
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            return Failed(JsonPath.Root, DescribeJsonError(ex));
        }

        using (document)
        {
            var policy = ParseRoot(document.RootElement);
            return _errors.Count == 0 && policy is not null
                ? new PolicyParseResult(policy, [])
                : new PolicyParseResult(null, _errors.ToArray());
        }
    }

    private static PolicyParseResult Failed(string path, string message) => new(null, [new PolicyError(path, message)]);

    private static string DescribeJsonError(JsonException ex)
    {
        // JsonException messages end in " Path: $.x | LineNumber: 2 | BytePositionInLine: 7."; keep the sentence, restate the position 1-based.
        var message = ex.Message;
        foreach (var marker in new[] { " Path: ", " LineNumber: " })
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut >= 0)
            {
                message = message[..cut];
            }
        }

        var where = ex.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, position {(ex.BytePositionInLine ?? 0) + 1}")
            : string.Empty;
        return $"invalid JSON{where}: {message.Trim()}";
    }

    private Policy? ParseRoot(JsonElement root)
    {
        var fields = ReadObject(root, JsonPath.Root, RootFields);
        if (fields is null)
        {
            return null;
        }

        if (fields.Get("$schema") is { } schema)
        {
            ExpectString(schema);
        }

        if (fields.Get("version") is { } version)
        {
            if (ExpectString(version) is { } v && v != "1")
            {
                Error(version.Path, $"unsupported version {PolicyText.Quote(v)}; expected \"1\"");
            }
        }
        else
        {
            Error(JsonPath.Root, "missing required field \"version\" (\"1\")");
        }

        PolicyAction? defaultAction = null;
        if (fields.Get("default") is { } def)
        {
            defaultAction = ParseEnum(def, "action", Actions);
        }
        else
        {
            Error(JsonPath.Root, "missing required field \"default\" (\"allow\", \"deny\" or \"require_approval\")");
        }

        var mode = fields.Get("mode") is { } m ? ParseEnum(m, "mode", Modes) : PolicyMode.Enforce;

        // Groups first: approvers anywhere else refer to them.
        if (fields.Get("groups") is { } groups)
        {
            ParseGroups(groups);
        }

        var hide = fields.Get("hide") is { } h ? ParseHide(h) : [];
        var rules = fields.Get("rules") is { } r ? ParseRules(r, "rules.") : [];
        var identities = fields.Get("identities") is { } i ? ParseIdentities(i) : [];
        var redaction = fields.Get("redact") is { } rd ? ParseRedact(rd) : RedactionRules.None;

        if (_errors.Count > 0 || defaultAction is null || mode is null)
        {
            return null;
        }

        return new Policy(mode.Value, defaultAction.Value, new RuleSet(rules), hide, identities, _groups, redaction);
    }

    private void ParseGroups(Field groups)
    {
        var fields = ReadObject(groups.Value, groups.Path, known: null);
        if (fields is null)
        {
            return;
        }

        // Register every name before validating members, so a bad member does not also cause "unknown group" noise.
        _groups = fields.ToDictionary(f => f.Name, _ => (IReadOnlyList<string>)[], StringComparer.Ordinal);
        foreach (var group in fields)
        {
            if (group.Name.Length == 0 || !group.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            {
                Error(group.Path, $"invalid group name {PolicyText.Quote(group.Name)}: use letters, digits, _ - .");
            }

            var members = ParsePrincipals(group, allowGroups: false);
            if (members is not null)
            {
                _groups[group.Name] = members;
            }
        }
    }

    private List<string> ParseHide(Field hide)
    {
        var result = new List<string>();
        foreach (var item in ReadArray(hide))
        {
            if (ExpectString(item) is { } pattern)
            {
                if (Glob.TryCreateToolPattern(pattern, out var error) is null)
                {
                    Error(item.Path, error!);
                }
                else
                {
                    result.Add(pattern);
                }
            }
        }

        return result;
    }

    /// <summary><c>"redact": {"fields": ["name", "x_*"], "patterns": ["regex"]}</c>: site-specific secrets.</summary>
    private RedactionRules ParseRedact(Field redact)
    {
        var fields = ReadObject(redact.Value, redact.Path, RedactFields);
        if (fields is null)
        {
            return RedactionRules.None;
        }

        var names = new List<string>();
        if (fields.Get("fields") is { } f)
        {
            foreach (var item in ReadArray(f, "an array of argument names"))
            {
                if (ExpectString(item) is not { } name)
                {
                    continue;
                }

                if (RedactionRules.NormalizeField(name).Trim('*').Length == 0)
                {
                    // Why: "*" or "" would mask every argument, and an approver could no longer judge anything.
                    Error(item.Path, $"invalid field {PolicyText.Quote(name)}: it must contain at least one letter or digit");
                }
                else
                {
                    names.Add(name);
                }
            }
        }

        var patterns = new List<Regex>();
        if (fields.Get("patterns") is { } p)
        {
            foreach (var item in ReadArray(p, "an array of regular expressions"))
            {
                if (ExpectString(item) is not { } text)
                {
                    continue;
                }

                if (RedactionRules.TryCompilePattern(text, out var error) is { } regex)
                {
                    patterns.Add(regex);
                }
                else
                {
                    Error(item.Path, error!);
                }
            }
        }

        return new RedactionRules(names, patterns);
    }

    private List<IdentityPolicy> ParseIdentities(Field identities)
    {
        var result = new List<IdentityPolicy>();
        var fields = ReadObject(identities.Value, identities.Path, known: null);
        if (fields is null)
        {
            return result;
        }

        foreach (var identity in fields)
        {
            if (identity.Name.Trim().Length == 0)
            {
                Error(identity.Path, "an identity name must not be empty");
            }

            var entry = ReadObject(identity.Value, identity.Path, IdentityFields);
            if (entry is null)
            {
                continue;
            }

            var prefix = "identities." + identity.Name + ".";
            PolicyDecision? defaultDecision = null;
            if (entry.Get("default") is { } def && ParseEnum(def, "action", Actions) is { } action)
            {
                defaultDecision = Policy.Decide(action, prefix + "default");
            }

            var rules = entry.Get("rules") is { } r ? ParseRules(r, prefix + "rules.") : [];
            result.Add(new IdentityPolicy(identity.Name, new RuleSet(rules), defaultDecision));
        }

        return result;
    }

    private List<CompiledRule> ParseRules(Field rules, string decisionPrefix)
    {
        var result = new List<CompiledRule>();
        var fields = ReadObject(rules.Value, rules.Path, known: null);
        if (fields is null)
        {
            return result;
        }

        foreach (var rule in fields)
        {
            var glob = Glob.TryCreateToolPattern(rule.Name, out var error);
            if (glob is null)
            {
                Error(rule.Path, error!);
            }

            var compiled = ParseRule(rule, glob, decisionPrefix + rule.Name);
            if (compiled is not null)
            {
                result.Add(compiled);
            }
        }

        return result;
    }

    private CompiledRule? ParseRule(Field rule, Glob? glob, string decisionPath)
    {
        if (rule.Value.ValueKind == JsonValueKind.String)
        {
            // A common shorthand in other tools; say exactly what to write instead.
            Error(rule.Path, $"expected an object, got a string; write {{\"action\": {PolicyText.Quote(rule.Value.GetString() ?? string.Empty)}}}");
            return null;
        }

        var errorsBefore = _errors.Count;
        var fields = ReadObject(rule.Value, rule.Path, RuleFields);
        if (fields is null)
        {
            return null;
        }

        PolicyAction? action = null;
        if (fields.Get("action") is { } a)
        {
            action = ParseEnum(a, "action", Actions);
        }
        else
        {
            Error(rule.Path, "missing required field \"action\" (\"allow\", \"deny\" or \"require_approval\")");
        }

        var reason = fields.Get("reason") is { } r ? ExpectString(r) : null;
        var approvers = fields.Get("approvers") is { } ap ? ParsePrincipals(ap, allowGroups: true) : null;
        var timeout = fields.Get("timeout") is { } t ? ParseTimeout(t) : null;
        var rateLimit = fields.Get("rate_limit") is { } rl ? ParseRateLimit(rl) : null;
        var conditions = fields.Get("when") is { } w ? ParseWhen(w) : [];
        var wait = fields.Get("wait") is { } wt ? ParseEnum(wt, "wait", Waits) : ApprovalWait.Block;
        var approvalsRequired = fields.Get("approvals_required") is { } ar ? ParseInt(ar, min: 1) : 1;
        var hold = fields.Get("hold") is { } h ? ParseDuration(h, "hold", allowZero: true) : null;
        var grants = fields.Get("grants") is { } g ? ParseGrants(g) : [];
        var grantScope = fields.Get("grant_scope") is { } gs ? ParseEnum(gs, "grant_scope", GrantScopes) : GrantScope.Tool;
        var editable = fields.Get("editable") is not { } ed || ParseBool(ed);
        var escalation = fields.Get("escalate") is { } es ? ParseEscalation(es, timeout) : null;
        if (fields.Get("grants") is { } grantsField && approvalsRequired > 1)
        {
            // Why: a grant lets later calls through on one person's word, which is what a quorum forbids.
            Error(grantsField.Path, "\"grants\" cannot be combined with \"approvals_required\" above 1: a grant would let later calls through on one approver's word");
        }

        if (fields.Get("grant_scope") is { } scopeField && fields.Get("grants") is null)
        {
            Error(scopeField.Path, "\"grant_scope\" has no effect without \"grants\"");
        }

        if (wait == ApprovalWait.Retry && fields.Get("hold") is { } holdField)
        {
            // Why: "retry" already means "hand back at once"; two answers to one question is a mistake.
            Error(holdField.Path, "\"hold\" cannot be combined with \"wait\": \"retry\" (retry means hold 0)");
        }

        if (action is { } known && known != PolicyAction.RequireApproval)
        {
            foreach (var name in ApprovalOnlyFields)
            {
                if (fields.Get(name) is { } misplaced)
                {
                    Error(misplaced.Path, $"{PolicyText.Quote(name)} only applies to action \"require_approval\", not {PolicyText.Quote(known.ToWireName())}");
                }
            }

            if (known == PolicyAction.Deny && fields.Get("rate_limit") is { } denied)
            {
                Error(denied.Path, "\"rate_limit\" has no effect on action \"deny\"");
            }
        }

        if (approvers is { Count: > 0 } && approvalsRequired > approvers.Count && fields.Get("approvals_required") is { } arField)
        {
            // Why: such a request could never be approved, only expire.
            Error(arField.Path, string.Create(
                CultureInfo.InvariantCulture,
                $"{approvalsRequired} approvals required but only {approvers.Count} distinct approver(s) are listed"));
        }

        if (_errors.Count > errorsBefore || glob is null || action is null || wait is null || approvalsRequired is null || grantScope is null)
        {
            return null;
        }

        var decision = new PolicyDecision(
            action.Value,
            decisionPath,
            reason,
            rateLimit,
            approvers ?? [],
            timeout,
            wait.Value,
            approvalsRequired.Value,
            wait == ApprovalWait.Retry ? TimeSpan.Zero : hold)
        {
            Grants = grants,
            GrantScope = grantScope.Value,
            Editable = editable,
            Escalation = escalation,
            Fingerprint = Fingerprint(decisionPath, rule.Value, approvers ?? []),
        };
        return new CompiledRule(glob, conditions.ToArray(), decision);
    }

    /// <summary><c>"grants": ["15m", "1h", "8h"]</c>: distinct durations greater than zero, at most <see cref="MaxGrantDurations"/>.</summary>
    private List<TimeSpan> ParseGrants(Field field)
    {
        var result = new List<TimeSpan>();
        var items = ReadArray(field, "an array of durations");
        if (field.Value.ValueKind == JsonValueKind.Array && items.Count == 0)
        {
            Error(field.Path, "an empty \"grants\" list is not allowed; omit \"grants\" to offer only \"approve once\"");
        }

        if (items.Count > MaxGrantDurations)
        {
            Error(field.Path, string.Create(CultureInfo.InvariantCulture, $"at most {MaxGrantDurations} grant durations may be offered, got {items.Count}"));
        }

        foreach (var item in items)
        {
            if (ParseDuration(item, "a grant duration", allowZero: false) is not { } duration)
            {
                continue;
            }

            if (result.Contains(duration))
            {
                Error(item.Path, $"duplicate grant duration {PolicyText.Quote(PolicyDuration.Format(duration))}");
                continue;
            }

            result.Add(duration);
        }

        return result;
    }

    /// <summary><c>"escalate": {"after": "10m", "to": ["group:oncall"]}</c>: a duration below the rule's timeout, and principals.</summary>
    private EscalationRule? ParseEscalation(Field field, TimeSpan? timeout)
    {
        var fields = ReadObject(field.Value, field.Path, EscalateFields);
        if (fields is null)
        {
            return null;
        }

        TimeSpan? after = null;
        if (fields.Get("after") is { } a)
        {
            after = ParseDuration(a, "after", allowZero: false);
            if (after is { } value && timeout is { } limit && value >= limit)
            {
                // Why: the approval would expire before anyone else is asked.
                Error(a.Path, $"escalation after {PolicyText.Quote(PolicyDuration.Format(value))} would come after the timeout ({PolicyText.Quote(PolicyDuration.Format(limit))}); it must be shorter");
                after = null;
            }
        }
        else
        {
            Error(field.Path, "missing required field \"after\" (a duration, e.g. \"10m\")");
        }

        IReadOnlyList<string>? to = null;
        if (fields.Get("to") is { } t)
        {
            to = ParsePrincipals(t, allowGroups: true);
        }
        else
        {
            Error(field.Path, $"missing required field \"to\" (an array of {PrincipalForms})");
        }

        return after is { } delay && to is not null ? new EscalationRule(delay, to) : null;
    }

    /// <summary>A short hash of the rule as written plus its expanded approvers (a group's members may change without the rule's text).</summary>
    private static string Fingerprint(string decisionPath, JsonElement rule, IReadOnlyList<string> approvers)
    {
        var text = decisionPath + "\n" + JsonSerializer.Serialize(rule) + "\n" + string.Join(",", approvers);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..32];
    }

    /// <summary>An approvers list (or a group's members): principals, <c>group:</c> expanded, de-duplicated in order.</summary>
    private IReadOnlyList<string>? ParsePrincipals(Field field, bool allowGroups)
    {
        if (field.Value.ValueKind != JsonValueKind.Array)
        {
            TypeError(field, "an array of strings");
            return null;
        }

        var errorsBefore = _errors.Count;
        var items = ReadArray(field);
        if (items.Count == 0)
        {
            Error(field.Path, allowGroups
                ? "an empty approvers list is not allowed; omit \"approvers\" to let any authenticated user decide"
                : "a group needs at least one member");
            return null;
        }

        var result = new List<string>();
        foreach (var item in items)
        {
            if (ExpectString(item) is not { } principal || ParsePrincipal(item, principal, allowGroups) is not { } expanded)
            {
                continue;
            }

            foreach (var p in expanded)
            {
                if (!result.Contains(p, StringComparer.Ordinal))
                {
                    result.Add(p);
                }
            }
        }

        return _errors.Count > errorsBefore ? null : result.ToArray();
    }

    private IReadOnlyList<string>? ParsePrincipal(Field item, string principal, bool allowGroups)
    {
        var colon = principal.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            Error(item.Path, $"invalid approver {PolicyText.Quote(principal)}: expected {PrincipalForms}");
            return null;
        }

        var prefix = principal[..colon];
        var id = principal[(colon + 1)..];
        if (!PrincipalPrefixes.Contains(prefix, StringComparer.Ordinal))
        {
            Error(item.Path, $"invalid approver {PolicyText.Quote(principal)}: unknown prefix {PolicyText.Quote(prefix)}; expected {PrincipalForms}{PolicyText.Hint(prefix, PrincipalPrefixes)}");
            return null;
        }

        if (id.Length == 0 || id.Any(char.IsWhiteSpace))
        {
            Error(item.Path, $"invalid approver {PolicyText.Quote(principal)}: the part after \"{prefix}:\" must be a non-empty id without spaces");
            return null;
        }

        if (prefix != "group")
        {
            return [principal];
        }

        if (!allowGroups)
        {
            Error(item.Path, $"a group cannot contain another group ({PolicyText.Quote(principal)}); list its members instead");
            return null;
        }

        if (!_groups.TryGetValue(id, out var members))
        {
            var hint = PolicyText.Hint(id, _groups.Keys);
            Error(item.Path, $"unknown group {PolicyText.Quote(id)}{hint}; define it under \"groups\"");
            return null;
        }

        return members;
    }

    private TimeSpan? ParseTimeout(Field field) => ParseDuration(field, "timeout", allowZero: false);

    private TimeSpan? ParseDuration(Field field, string name, bool allowZero)
    {
        if (ExpectString(field) is not { } text)
        {
            return null;
        }

        if (!PolicyDuration.TryParse(text, out var duration))
        {
            Error(field.Path, $"invalid duration {PolicyText.Quote(text)}; expected e.g. \"30s\", \"15m\", \"1h30m\", \"2d\" or \"500ms\"");
            return null;
        }

        if (duration < TimeSpan.Zero || (!allowZero && duration == TimeSpan.Zero))
        {
            Error(field.Path, $"{name} must be greater than {(allowZero ? "or equal to " : "")}zero, got {PolicyText.Quote(text)}");
            return null;
        }

        return duration;
    }

    private RateLimit? ParseRateLimit(Field field)
    {
        var fields = ReadObject(field.Value, field.Path, RateLimitFields);
        if (fields is null)
        {
            return null;
        }

        int? Required(string name)
        {
            if (fields.Get(name) is { } f)
            {
                return ParseInt(f, min: 1);
            }

            Error(field.Path, $"missing required field {PolicyText.Quote(name)} (an integer ≥ 1)");
            return null;
        }

        var max = Required("max");
        var window = Required("window");
        return max is { } m && window is { } w ? new RateLimit(m, w) : null;
    }

    private List<Condition> ParseWhen(Field field)
    {
        var result = new List<Condition>();
        var fields = ReadObject(field.Value, field.Path, known: null);
        if (fields is null)
        {
            return result;
        }

        foreach (var entry in fields)
        {
            var (source, path, booleanOnly) = ParseConditionKey(entry);
            var test = ParseConditionTest(entry, booleanOnly);
            if (path is not null && test is not null)
            {
                result.Add(new Condition(entry.Name, source, path, test));
            }
        }

        return result;
    }

    private (ConditionSource Source, Condition.Segment[]? Path, bool BooleanOnly) ParseConditionKey(Field entry)
    {
        var key = entry.Name;
        var segments = key.Split('.');
        switch (segments[0])
        {
            case "args" when segments.Length >= 2:
                if (segments.Skip(1).Any(s => s.Length == 0))
                {
                    Error(entry.Path, $"invalid condition key {PolicyText.Quote(key)}: empty path segment");
                    return default;
                }

                return (ConditionSource.Arguments, Condition.CompilePath(segments.Skip(1)), false);

            case "annotations" when segments.Length == 2:
                var name = segments[1];
                if (!AnnotationNames.Contains(name, StringComparer.Ordinal))
                {
                    Error(entry.Path, $"unknown annotation {PolicyText.Quote(name)}; expected {PolicyText.QuotedList(AnnotationNames)}{PolicyText.Hint(name, AnnotationNames)}");
                    return default;
                }

                return (ConditionSource.Annotations, Condition.CompilePath([name]), BooleanHints.Contains(name, StringComparer.Ordinal));

            default:
                var root = PolicyText.Closest(segments[0], ConditionRoots);
                var hint = root is not null && segments.Length >= 2
                    ? $"; did you mean {PolicyText.Quote(root + key[segments[0].Length..])}?"
                    : string.Empty;
                Error(entry.Path, $"invalid condition key {PolicyText.Quote(key)}: expected \"args.<path>\" or \"annotations.<name>\"{hint}");
                return default;
        }
    }

    private ConditionTest? ParseConditionTest(Field entry, bool booleanOnly)
    {
        var value = entry.Value;
        if (Scalar.IsScalar(value))
        {
            return CheckBoolean(entry, booleanOnly) ? new EqualsTest(Scalar.From(value)) : null;
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            Error(entry.Path, "expected a value or an operator object; to match any of several values write {\"in\": [...]}");
            return null;
        }

        var operators = ReadObject(value, entry.Path, OperatorFields);
        if (operators is null)
        {
            return null;
        }

        if (operators.Count != 1)
        {
            // Unknown keys were already reported; only complain about the count when that is the whole story.
            if (operators.Count > 1 || value.EnumerateObject().Any() is false)
            {
                Error(entry.Path, "an operator object needs exactly one of \"in\", \"glob\" or \"exists\"");
            }

            return null;
        }

        var op = operators[0];
        switch (op.Name)
        {
            case "in":
                var options = new List<Scalar>();
                var items = ReadArray(op, "an array of values");
                if (op.Value.ValueKind == JsonValueKind.Array && items.Count == 0)
                {
                    Error(op.Path, "\"in\" needs at least one value");
                }

                foreach (var item in items)
                {
                    if (!Scalar.IsScalar(item.Value))
                    {
                        TypeError(item, "a string, number, boolean or null");
                    }
                    else if (CheckBoolean(item, booleanOnly))
                    {
                        options.Add(Scalar.From(item.Value));
                    }
                }

                return options.Count == items.Count && items.Count > 0 ? new InTest(options.ToArray()) : null;

            case "glob":
                if (booleanOnly)
                {
                    Error(op.Path, "\"glob\" cannot be used on a boolean annotation; compare with true or false");
                    return null;
                }

                return ExpectString(op) is { } pattern ? new GlobTest(Glob.Create(pattern)) : null;

            default: // "exists"
                if (op.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    return new ExistsTest(op.Value.GetBoolean());
                }

                TypeError(op, "a boolean");
                return null;
        }
    }

    private bool CheckBoolean(Field field, bool booleanOnly)
    {
        if (booleanOnly && field.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            // Why: "annotations.readOnlyHint": "true" would silently never match.
            TypeError(field, "true or false (the annotation is a boolean)");
            return false;
        }

        return true;
    }

    private T? ParseEnum<T>(Field field, string what, ImmutableArray<(string Name, T Value)> options)
        where T : struct
    {
        if (ExpectString(field) is not { } text)
        {
            return null;
        }

        foreach (var (name, value) in options)
        {
            if (name == text)
            {
                return value;
            }
        }

        var names = options.Select(o => o.Name).ToArray();
        Error(field.Path, $"invalid {what} {PolicyText.Quote(text)}; expected {PolicyText.QuotedList(names)}{PolicyText.Hint(text, names)}");
        return null;
    }

    private bool ParseBool(Field field)
    {
        if (field.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return field.Value.GetBoolean();
        }

        TypeError(field, "true or false");
        return false;
    }

    private int? ParseInt(Field field, int min)
    {
        if (field.Value.ValueKind != JsonValueKind.Number)
        {
            TypeError(field, "an integer");
            return null;
        }

        if (!field.Value.TryGetInt32(out var value))
        {
            Error(field.Path, $"expected an integer, got {field.Value.GetRawText()}");
            return null;
        }

        if (value < min)
        {
            Error(field.Path, string.Create(CultureInfo.InvariantCulture, $"must be at least {min}, got {value}"));
            return null;
        }

        return value;
    }

    private string? ExpectString(Field field)
    {
        if (field.Value.ValueKind == JsonValueKind.String)
        {
            return field.Value.GetString();
        }

        TypeError(field, "a string");
        return null;
    }

    private List<Field> ReadArray(Field field, string expected = "an array")
    {
        var items = new List<Field>();
        if (field.Value.ValueKind != JsonValueKind.Array)
        {
            TypeError(field, expected);
            return items;
        }

        var index = 0;
        foreach (var item in field.Value.EnumerateArray())
        {
            items.Add(new Field(string.Empty, item, JsonPath.Index(field.Path, index++)));
        }

        return items;
    }

    /// <summary>
    /// The properties of an object, in file order. Reports duplicate keys and, when
    /// <paramref name="known"/> is given, unknown fields (with a "did you mean" hint).
    /// </summary>
    private Fields? ReadObject(JsonElement element, string path, IReadOnlyList<string>? known)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            TypeError(new Field(string.Empty, element, path), "an object");
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var fields = new Fields();
        foreach (var property in element.EnumerateObject())
        {
            var fieldPath = JsonPath.Property(path, property.Name);
            if (!seen.Add(property.Name))
            {
                // Why: JSON parsers disagree on which duplicate wins; refuse rather than guess.
                Error(fieldPath, $"duplicate key {PolicyText.Quote(property.Name)}");
                continue;
            }

            if (known is not null && !known.Contains(property.Name, StringComparer.Ordinal))
            {
                var hint = PolicyText.Hint(property.Name, known);
                Error(fieldPath, hint.Length > 0
                    ? $"unknown field {PolicyText.Quote(property.Name)}{hint}"
                    : $"unknown field {PolicyText.Quote(property.Name)}; expected {PolicyText.QuotedList(known)}");
                continue;
            }

            fields.Add(new Field(property.Name, property.Value, fieldPath));
        }

        return fields;
    }

    private void TypeError(Field field, string expected) =>
        Error(field.Path, $"expected {expected}, got {KindName(field.Value.ValueKind)}");

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private void Error(string path, string message) => _errors.Add(new PolicyError(path, message));

    /// <summary>A JSON value with its name (empty for array items) and its path for errors.</summary>
    private readonly record struct Field(string Name, JsonElement Value, string Path);

    private sealed class Fields : List<Field>
    {
        public Field? Get(string name)
        {
            foreach (var field in this)
            {
                if (field.Name == name)
                {
                    return field;
                }
            }

            return null;
        }
    }
}
