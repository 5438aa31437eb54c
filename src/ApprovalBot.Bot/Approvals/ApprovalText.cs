using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Policy;

namespace ApprovalBot.Bot.Approvals;

/// <summary>
/// The sentences every channel (Slack, Teams, console, status) uses for where an approval stands,
/// so they all say the same true thing. Plain text; a channel escapes or formats <c>by</c> itself.
/// </summary>
internal static class ApprovalText
{
    public const string AgentWaiting = "Agent waiting";
    public const string AgentWaitingDetail = "Agent waiting: the call runs as soon as it is approved.";
    public const string AgentWillCollect = "The agent will collect this on its next call";
    public const string AgentWillCollectDetail = "The agent will collect this on its next call: nothing runs until it calls again.";

    /// <summary>"agent waiting" or "the agent will collect it on its next call": a pending approval in a list.</summary>
    public static string WaitingInList(ApprovalView view) =>
        view.AgentWaiting ? "agent waiting" : "the agent will collect it on its next call";

    /// <summary>"Agent waiting" or "The agent will collect this on its next call" (pending approvals only).</summary>
    public static string Waiting(ApprovalView view, bool detail = false) => view.AgentWaiting
        ? detail ? AgentWaitingDetail : AgentWaiting
        : detail ? AgentWillCollectDetail : AgentWillCollect;

    /// <summary>"runs when the agent calls again (until 10:30 UTC)": what follows "Approved by X — ".</summary>
    public static string RunsOnNextCall(DateTimeOffset collectBy, DateTimeOffset now) =>
        $"runs when the agent calls again (until {Clock(collectBy, now)})";

    /// <summary>What follows "Approved by X" on a lapsed approval.</summary>
    public const string NeverCollected = "the agent never came back for it — nothing ran.";

    /// <summary>
    /// One sentence for where the approval stands, with <paramref name="by"/> as the decider's name
    /// ("console admin"). Null for a plain pending approval whose only news is the waiting hint.
    /// </summary>
    public static string Describe(ApprovalView view, DateTimeOffset now, string? by = null)
    {
        by ??= view.DecidedBy?.DisplayName ?? "nobody";
        return view.Status switch
        {
            ApprovalStatus.Pending => Waiting(view),
            ApprovalStatus.Approved when view.Succeeded == true => $"Approved by {by}; executed.",
            ApprovalStatus.Approved when view.Succeeded == false => $"Approved by {by}; the call failed upstream.",
            ApprovalStatus.Approved when view.CollectBy is { } collectBy => $"Approved by {by} — {RunsOnNextCall(collectBy, now)}.",
            ApprovalStatus.Approved => $"Approved by {by}.",
            ApprovalStatus.Executed => $"Approved by {by}; executed.",
            ApprovalStatus.ExecutionFailed => $"Approved by {by}; the call failed upstream.",
            ApprovalStatus.Lapsed => $"Approved by {by}; {NeverCollected}",
            ApprovalStatus.Denied => $"Denied by {by}.",
            ApprovalStatus.Expired => "Expired: nobody decided in time.",
            ApprovalStatus.Cancelled when view.DecidedBy is not null => $"Withdrawn by {by}.",
            ApprovalStatus.Cancelled => "Withdrawn by the agent.",
            _ => view.Status.ToString(),
        };
    }

    /// <summary>Whether a grant (or the one an approval would give) covers only calls with the same arguments.</summary>
    public static bool CoversSameArguments(string? grantScope) => grantScope == GrantScope.Arguments.ToWireName();

    /// <summary>"same arguments only" or "any arguments": what an active grant covers, in a grant list.</summary>
    public static string GrantScopeWords(string? grantScope) => CoversSameArguments(grantScope) ? "same arguments only" : "any arguments";

    /// <summary>The grant list when it is empty.</summary>
    public const string NoActiveGrant = "No grant is active: every guarded call asks for approval.";

    /// <summary>The heading of a card approved for a while (a grant was given).</summary>
    public const string ApprovedForAWhile = "Approved for a while";

    /// <summary>
    /// "later calls of a to t [with these arguments] run without asking until 10:30 UTC.": what follows
    /// "Approved for a while: ", with <paramref name="agent"/>, <paramref name="tool"/> and <paramref name="until"/> as the channel shows them.
    /// </summary>
    public static string GrantLetsThrough(string agent, string tool, string? grantScope, string until) =>
        $"later calls of {agent} to {tool}{(CoversSameArguments(grantScope) ? " with these arguments" : "")} run without asking until {until}.";

    /// <summary>The heading of the arguments that ran when the approver changed them.</summary>
    public const string ApprovedWithChangedArguments = "Approved with changed arguments";

    /// <summary>What follows <see cref="ApprovedWithChangedArguments"/>: masked values in the edit are the original's.</summary>
    public const string HiddenValuesUnchanged = "(hidden values unchanged)";

    /// <summary>The edit dialog's hint after its first sentence, with <paramref name="mask"/> as the channel shows the mask.</summary>
    public static string KeepHiddenValues(string mask) =>
        $"Leave {mask} as it is: the hidden value is kept. The gateway checks the edit against the tool's schema and the policy.";

    /// <summary>"Nobody has decided on t yet; it expires 10:30 UTC (in 5m).", with <paramref name="tool"/> and <paramref name="expires"/> as the channel shows them.</summary>
    public static string Reminder(string tool, string expires, DateTimeOffset expiresAt, DateTimeOffset now) =>
        $"Nobody has decided on {tool} yet; it expires {expires} ({Until(expiresAt, now)}).";

    private static readonly JsonSerializerOptions PrettyJson = new()
    {
        WriteIndented = true,
        // Read on a card, not embedded in HTML: quotes, < and non-ASCII stay as typed rather than \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Arguments (JSON text) indented to read on a card; <paramref name="whenNull"/> for a JSON null,
    /// and null when the text is not JSON (each channel decides what to show then).
    /// </summary>
    public static string? Pretty(string json, string whenNull = "null")
    {
        try
        {
            return JsonNode.Parse(json)?.ToJsonString(PrettyJson) ?? whenNull;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>"10:30 UTC" on the same UTC day as <paramref name="now"/>, else "2025-06-03 10:30 UTC".</summary>
    public static string Clock(DateTimeOffset at, DateTimeOffset now)
    {
        var utc = at.UtcDateTime;
        return utc.Date == now.UtcDateTime.Date
            ? utc.ToString("HH:mm 'UTC'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
    }

    /// <summary>"42s", "5m", "2h 10m", "3d 4h": the largest two units, rounded down; a negative span is "0s".</summary>
    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.FromMinutes(1))
        {
            return $"{Math.Max(0, (int)span.TotalSeconds)}s";
        }

        if (span < TimeSpan.FromHours(1))
        {
            return $"{(int)span.TotalMinutes}m";
        }

        return span < TimeSpan.FromDays(1)
            ? $"{(int)span.TotalHours}h {span.Minutes}m"
            : $"{(int)span.TotalDays}d {span.Hours}h";
    }

    /// <summary>"5m ago", or "just now" for a time not yet reached (clocks of two machines).</summary>
    public static string Ago(DateTimeOffset then, DateTimeOffset now) => then > now ? "just now" : Duration(now - then) + " ago";

    /// <summary>"in 5m", or "overdue" once <paramref name="then"/> has passed.</summary>
    public static string Until(DateTimeOffset then, DateTimeOffset now) => then <= now ? "overdue" : "in " + Duration(then - now);
}
