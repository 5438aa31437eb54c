using System.Text.Json;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;
using ApprovalBot.Core.Redaction;
using ApprovalBot.Gateway.Parking;
using ApprovalBot.Gateway.Policies;
using ApprovalBot.Gateway.Storage;
using ApprovalBot.Gateway.Upstreams;
using ModelContextProtocol;
using NJsonSchema;

namespace ApprovalBot.Gateway.Enforcement;

/// <summary>
/// Judges an approver's edit before it may approve anything: merged with the arguments the card
/// showed (hidden values kept, none typed in: <see cref="ArgumentEdit"/>), valid against the tool's
/// <c>inputSchema</c>, and — asked again — allowed by the policy or held by the same rule that the
/// approver was asked under. The edit is bound with its own digest.
/// </summary>
public sealed class ArgumentEdits(PolicyStore policies, UpstreamRegistry upstreams, ArgumentDigest digests, SecretRedactor redactor) : IArgumentEdits
{
    public async Task<EditCheck> CheckAsync(ApprovalRecord approval, string editedArguments, CancellationToken cancellationToken)
    {
        var merge = ArgumentEdit.Apply(editedArguments, approval.ArgumentsRedacted, original: null, redactor);
        if (!merge.Succeeded)
        {
            return EditCheck.Refused($"Edit refused: {merge.Error}.");
        }

        if (!merge.Changed)
        {
            return new EditCheck(null, Unchanged: true);
        }

        var tool = await upstreams.FindToolAsync(approval.Tool, cancellationToken);
        if (tool is null)
        {
            return EditCheck.Refused($"Edit refused: {approval.Tool} is not in the catalogue now, so the edit cannot be checked against its inputSchema.");
        }

        var arguments = JsonSerializer.SerializeToElement(merge.Arguments);
        if (await SchemaErrorAsync(tool.Exposed.InputSchema, arguments, merge.HiddenPaths, cancellationToken) is { } schemaError)
        {
            return EditCheck.Refused($"Edit refused: the edited arguments do not match the inputSchema of {approval.Tool}: {schemaError}.");
        }

        var annotations = tool.Exposed.Annotations is null ? (JsonElement?)null : JsonSerializer.SerializeToElement(tool.Exposed.Annotations, McpJsonUtilities.DefaultOptions);
        var decision = policies.Current.Evaluate(new PolicyRequest(approval.Agent, approval.Tool, arguments, annotations));
        switch (decision.Action)
        {
            case PolicyAction.Deny:
                return EditCheck.Refused($"Edit refused: the policy denies {approval.Tool} with these arguments ({decision.Rule}{(decision.Reason is { Length: > 0 } reason ? ": " + reason : "")}).");
            case PolicyAction.RequireApproval when decision.Rule != approval.Rule:
                // Another rule may name other approvers: whoever was asked here cannot approve for it.
                return EditCheck.Refused($"Edit refused: with these arguments {approval.Tool} falls under {decision.Rule}, not {approval.Rule}; the agent has to ask for it.");
        }

        var edit = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(merge.Edit)!;
        return new EditCheck(null, merge.Edit, digests.Compute(edit));
    }

    /// <summary>The first schema violation, ignoring the values kept hidden (the agent's own, not the approver's).</summary>
    private static async Task<string?> SchemaErrorAsync(JsonElement inputSchema, JsonElement arguments, IReadOnlyList<string> hidden, CancellationToken cancellationToken)
    {
        if (inputSchema.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var schema = await JsonSchema.FromJsonAsync(inputSchema.GetRawText(), cancellationToken);
        foreach (var error in schema.Validate(arguments.GetRawText()))
        {
            var path = error.Path ?? "#";
            if (!hidden.Any(h => path == h || path.StartsWith(h + "/", StringComparison.Ordinal) || path.StartsWith(h + "[", StringComparison.Ordinal)))
            {
                return $"{path}: {error.Kind}";
            }
        }

        return null;
    }
}
