using System.Text.Json;
using ApprovalBot.Core.Policy;
using ApprovalBot.Gateway.Policies;

namespace ApprovalBot.Cli;

/// <summary><c>policy validate|explain|test</c>: the policy file checked and exercised without a running gateway.</summary>
public static class PolicyCommands
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length < 2)
        {
            stderr.WriteLine(CommandLine.Usage);
            return 2;
        }

        var loaded = PolicyStore.Load(args[1]);
        if (!loaded.Success)
        {
            stderr.WriteLine($"{args[1]}: invalid policy ({loaded.Errors.Count} error(s)):");
            foreach (var error in loaded.Errors)
            {
                stderr.WriteLine($"  {error}");
            }

            return 1;
        }

        var policy = loaded.Policy!;
        switch (args[0])
        {
            case "validate":
                stdout.WriteLine($"{args[1]}: valid ({policy.Summary})");
                return 0;
            case "explain":
                return Explain(policy, args, stdout, stderr);
            case "test" when args.Length >= 3:
                return Test(policy, args[2], stdout, stderr);
            default:
                stderr.WriteLine(CommandLine.Usage);
                return 2;
        }
    }

    private static int Explain(Policy policy, string[] args, TextWriter stdout, TextWriter stderr)
    {
        var tool = CommandLine.Option(args, "--tool");
        if (tool is null)
        {
            stderr.WriteLine("policy explain needs --tool NAME");
            return 2;
        }

        if (!TryParseJson(CommandLine.Option(args, "--args"), "--args", stderr, out var arguments)
            || !TryParseJson(CommandLine.Option(args, "--annotations"), "--annotations", stderr, out var annotations))
        {
            return 2;
        }

        var agent = CommandLine.Option(args, "--agent") ?? "anonymous";
        if (policy.IsHidden(tool))
        {
            stdout.WriteLine($"hidden: {tool} is hidden by 'hide'; agents see it as an unknown tool.");
            return 0;
        }

        var explanation = policy.Explain(new PolicyRequest(agent, tool, arguments, annotations));
        var decision = explanation.Decision;
        stdout.WriteLine($"decision: {decision.Action.ToWireName()}");
        stdout.WriteLine($"rule:     {decision.Rule}");
        if (decision.Reason is not null)
        {
            stdout.WriteLine($"reason:   {decision.Reason}");
        }

        if (decision.RateLimit is { } limit)
        {
            stdout.WriteLine($"rate:     at most {limit.Max} calls per {limit.WindowSeconds} s per agent");
        }

        if (decision.Action == PolicyAction.RequireApproval)
        {
            stdout.WriteLine($"approvers: {(decision.Approvers.Count == 0 ? "any authenticated channel user" : string.Join(", ", decision.Approvers))}");
            stdout.WriteLine($"approvals required: {decision.ApprovalsRequired}; wait: {decision.Wait.ToWireName()}; timeout: {decision.Timeout?.ToString() ?? "default"}");
        }

        foreach (var candidate in explanation.Candidates)
        {
            stdout.WriteLine($"  considered {candidate.Rule}: {(candidate.ConditionsHold ? "matches" : "skipped, " + candidate.FailedCondition)}");
        }

        return 0;
    }

    /// <summary>Runs a table of cases: [{"agent","tool","args","annotations","expect"}]; non-zero on any mismatch.</summary>
    private static int Test(Policy policy, string casesPath, TextWriter stdout, TextWriter stderr)
    {
        JsonElement cases;
        try
        {
            cases = JsonDocument.Parse(File.ReadAllText(casesPath)).RootElement;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{casesPath}: {e.Message}");
            return 2;
        }

        if (cases.ValueKind != JsonValueKind.Array)
        {
            stderr.WriteLine($"{casesPath}: expected a JSON array of cases");
            return 2;
        }

        var failures = 0;
        var index = 0;
        foreach (var item in cases.EnumerateArray())
        {
            var tool = item.TryGetProperty("tool", out var t) ? t.GetString() ?? "" : "";
            var agent = item.TryGetProperty("agent", out var a) ? a.GetString() ?? "anonymous" : "anonymous";
            var expect = item.TryGetProperty("expect", out var x) ? x.GetString() ?? "" : "";
            JsonElement? arguments = item.TryGetProperty("args", out var args) ? args : null;
            JsonElement? annotations = item.TryGetProperty("annotations", out var ann) ? ann : null;
            var actual = policy.IsHidden(tool) ? "hidden" : policy.Evaluate(new PolicyRequest(agent, tool, arguments, annotations)).Action.ToWireName();
            var ok = string.Equals(actual, expect, StringComparison.Ordinal);
            failures += ok ? 0 : 1;
            stdout.WriteLine($"{(ok ? "pass" : "FAIL")} [{index}] {agent} {tool}: expected {expect}, got {actual}");
            index++;
        }

        stdout.WriteLine($"{index - failures} passed, {failures} failed");
        return failures == 0 ? 0 : 1;
    }

    private static bool TryParseJson(string? text, string option, TextWriter stderr, out JsonElement? value)
    {
        value = null;
        if (text is null)
        {
            return true;
        }

        try
        {
            value = JsonDocument.Parse(text).RootElement.Clone();
            return true;
        }
        catch (JsonException e)
        {
            stderr.WriteLine($"{option} is not valid JSON: {e.Message}");
            return false;
        }
    }
}
