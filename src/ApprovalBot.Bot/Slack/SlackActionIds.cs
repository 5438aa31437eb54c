namespace ApprovalBot.Bot.Slack;

/// <summary>The action, block and callback ids ApprovalBot puts on its cards and dialogs.</summary>
public static class SlackActionIds
{
    public const string Approve = "approvalbot_approve";
    public const string Deny = "approvalbot_deny";
    public const string DenyWithReason = "approvalbot_deny_reason";
    public const string Withdraw = "approvalbot_withdraw";

    /// <summary>The actions block; absent from a card once the approval is decided.</summary>
    public const string ActionsBlock = "approvalbot_actions";

    /// <summary>On a pending card: "Agent waiting" or "The agent will collect this on its next call".</summary>
    public const string WaitingBlock = "approvalbot_waiting";

    /// <summary>On a decided card: the outcome line.</summary>
    public const string OutcomeBlock = "approvalbot_outcome";

    /// <summary>The deny-with-reason modal: callback id, and its input's block and action ids.</summary>
    public const string DenyReasonModal = "approvalbot_deny_reason_modal";
    public const string ReasonBlock = "approvalbot_reason";
    public const string ReasonInput = "approvalbot_reason_input";
}
