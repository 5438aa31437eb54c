namespace ApprovalBot.Bot.Slack;

/// <summary>The action, block and callback ids ApprovalBot puts on its cards and dialogs.</summary>
public static class SlackActionIds
{
    public const string Approve = "approvalbot_approve";
    public const string Deny = "approvalbot_deny";
    public const string DenyWithReason = "approvalbot_deny_reason";
    public const string Withdraw = "approvalbot_withdraw";

    /// <summary>"Approve for 1h": this prefix plus the duration as the policy spells it (<c>approvalbot_approve_for_1h</c>).</summary>
    public const string ApproveForPrefix = "approvalbot_approve_for_";

    /// <summary>"Edit & approve": opens the dialog with the arguments as JSON.</summary>
    public const string EditApprove = "approvalbot_edit_approve";

    /// <summary>The edit dialog: callback id, and its input's block and action ids.</summary>
    public const string EditModal = "approvalbot_edit_modal";
    public const string ArgumentsBlock = "approvalbot_arguments";
    public const string ArgumentsInput = "approvalbot_arguments_input";

    /// <summary>On a pending card that was escalated: to whom.</summary>
    public const string EscalatedBlock = "approvalbot_escalated";

    /// <summary>On a card approved with changed arguments: what runs.</summary>
    public const string EditedBlock = "approvalbot_edited";

    /// <summary>On a decided card approved for a while: which grant, until when.</summary>
    public const string GrantBlock = "approvalbot_grant";

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
