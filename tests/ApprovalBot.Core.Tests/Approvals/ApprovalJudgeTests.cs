using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Contracts;

namespace ApprovalBot.Core.Tests.Approvals;

/// <summary>The pure decision rules: who may decide, quorums, and what a late or second decision gets.</summary>
public sealed class ApprovalJudgeTests
{
    private static readonly DateTimeOffset Deadline = new(2026, 11, 23, 9, 15, 0, TimeSpan.Zero);
    private static readonly Approver Alice = new("slack", "UALICE", "Alice", "T1");
    private static readonly Approver Bob = new("slack", "UBOB", "Bob", "T1");
    private static readonly Approver Carol = new("teams", "c0ffee", "Carol");
    private static readonly Approver Mallory = new("slack", "UMALLORY", "Mallory", "T1");

    private static ApprovalSnapshot Approval(
        int required = 1, string[]? approvedBy = null, ApprovalStatus status = ApprovalStatus.Pending, string[]? approvers = null, string? decidedBy = null) =>
        new(Guid.NewGuid(), "agentwork_cancel_task", status, approvers ?? [Alice.Principal, Bob.Principal, Carol.Principal], required, approvedBy ?? [], Deadline, decidedBy);

    private static ApprovalDecision Click(Approver who, bool approve = true, bool withdraw = false) =>
        new(Guid.NewGuid(), Guid.NewGuid(), approve, who, null, Deadline.AddMinutes(-5), "slack", withdraw);

    private static Verdict Judge(ApprovalSnapshot approval, ApprovalDecision decision, DateTimeOffset? at = null) =>
        ApprovalJudge.Judge(approval, decision, at ?? Deadline.AddMinutes(-1));

    [Fact]
    public void A_deny_in_the_middle_of_a_quorum_ends_it_as_denied()
    {
        var halfway = Approval(required: 3, approvedBy: [Alice.Principal]);

        var verdict = Judge(halfway, Click(Bob, approve: false));

        Assert.Equal(new Verdict(VerdictKind.Denied, "Denied by Bob."), verdict);
    }

    [Fact]
    public void The_one_who_already_approved_can_still_deny_before_the_quorum_is_reached()
    {
        var halfway = Approval(required: 2, approvedBy: [Alice.Principal]);

        Assert.Equal(VerdictKind.Denied, Judge(halfway, Click(Alice, approve: false)).Kind);
    }

    [Fact]
    public void Votes_count_until_the_quorum_and_the_last_one_approves()
    {
        Assert.Equal(new Verdict(VerdictKind.Counted, "Approval 1 of 3 recorded; 2 more needed."), Judge(Approval(required: 3), Click(Alice)));
        Assert.Equal(new Verdict(VerdictKind.Counted, "Approval 2 of 3 recorded; 1 more needed."), Judge(Approval(required: 3, approvedBy: [Alice.Principal]), Click(Carol)));
        Assert.Equal(new Verdict(VerdictKind.Approved, "Approved by Bob."), Judge(Approval(required: 3, approvedBy: [Alice.Principal, Carol.Principal]), Click(Bob)));
        Assert.Equal(VerdictKind.Approved, Judge(Approval(required: 1), Click(Alice)).Kind);
    }

    [Fact]
    public void The_same_person_counts_once()
    {
        var verdict = Judge(Approval(required: 2, approvedBy: [Alice.Principal]), Click(Alice));

        Assert.Equal(new Verdict(VerdictKind.AlreadyCounted, "Your approval already counts; 1 more needed."), verdict);
    }

    [Fact]
    public void A_decision_after_the_deadline_but_before_the_sweeper_is_an_expiry()
    {
        var stillPending = Approval();

        Assert.Equal(VerdictKind.Expired, Judge(stillPending, Click(Alice), Deadline).Kind);
        Assert.Equal(VerdictKind.Expired, Judge(stillPending, Click(Bob, approve: false), Deadline.AddSeconds(1)).Kind);
        Assert.Equal(VerdictKind.Expired, Judge(stillPending, Click(Alice, withdraw: true), Deadline.AddHours(1)).Kind);
        Assert.Equal("This approval has expired; nobody decided in time.", Judge(stillPending, Click(Alice), Deadline).Message);
        // One tick before the deadline still counts.
        Assert.Equal(VerdictKind.Approved, Judge(stillPending, Click(Alice), Deadline.AddTicks(-1)).Kind);
    }

    [Fact]
    public void A_late_vote_in_the_middle_of_a_quorum_does_not_count()
    {
        Assert.Equal(VerdictKind.Expired, Judge(Approval(required: 2, approvedBy: [Alice.Principal]), Click(Bob), Deadline).Kind);
    }

    [Fact]
    public void Someone_not_in_the_approvers_is_refused_whatever_the_state()
    {
        foreach (var status in Enum.GetValues<ApprovalStatus>())
        {
            var verdict = Judge(Approval(status: status, decidedBy: "Alice"), Click(Mallory), Deadline.AddDays(1));
            Assert.Equal(new Verdict(VerdictKind.NotAnApprover, "Mallory is not an approver for agentwork_cancel_task."), verdict);
        }
    }

    [Fact]
    public void Principals_match_exactly_platform_and_id()
    {
        Assert.Equal(VerdictKind.NotAnApprover, Judge(Approval(), Click(new Approver("slack", "ualice", "Alice"))).Kind);
        Assert.Equal(VerdictKind.NotAnApprover, Judge(Approval(), Click(new Approver("teams", "UALICE", "Alice"))).Kind);
        // The display name never authorizes.
        Assert.Equal(VerdictKind.NotAnApprover, Judge(Approval(), Click(new Approver("slack", "UEVE", "Alice"))).Kind);
    }

    [Fact]
    public void No_approvers_means_any_identified_person()
    {
        var open = Approval(approvers: []);

        Assert.Equal(VerdictKind.Approved, Judge(open, Click(Mallory)).Kind);
        Assert.Equal(VerdictKind.NotAnApprover, Judge(open, Click(new Approver("console", "", "nobody"))).Kind);
    }

    [Theory]
    [InlineData(ApprovalStatus.Approved, "Already approved by Alice.")]
    [InlineData(ApprovalStatus.Executed, "Already approved by Alice.")]
    [InlineData(ApprovalStatus.ExecutionFailed, "Already approved by Alice.")]
    [InlineData(ApprovalStatus.Denied, "Already denied by Alice.")]
    [InlineData(ApprovalStatus.Cancelled, "Already cancelled by Alice.")]
    [InlineData(ApprovalStatus.Lapsed, "Already approved (never collected by the agent) by Alice.")]
    public void A_second_decision_names_the_first(ApprovalStatus status, string message)
    {
        Assert.Equal(new Verdict(VerdictKind.AlreadyDecided, message), Judge(Approval(status: status, decidedBy: "Alice"), Click(Bob, approve: false)));
    }

    [Fact]
    public void A_decision_on_an_expired_approval_says_expired_without_a_name()
    {
        Assert.Equal(new Verdict(VerdictKind.AlreadyDecided, "Already expired."), Judge(Approval(status: ApprovalStatus.Expired), Click(Alice)));
    }

    [Fact]
    public void Withdraw_wins_over_the_approve_flag_and_is_refused_to_non_approvers()
    {
        Assert.Equal(new Verdict(VerdictKind.Withdrawn, "Withdrawn by Carol."), Judge(Approval(required: 2, approvedBy: [Alice.Principal]), Click(Carol, approve: true, withdraw: true)));
        Assert.Equal(VerdictKind.NotAnApprover, Judge(Approval(), Click(Mallory, withdraw: true)).Kind);
    }
}
