using ApprovalBot.Core.Policy;
using static ApprovalBot.Core.Tests.Policy.PolicyTestData;

namespace ApprovalBot.Core.Tests.Policy;

public class PolicyPerformanceTests
{
    private static ApprovalBot.Core.Policy.Policy ThousandRules()
    {
        var rules = Enumerable.Range(0, 1000).Select(i => i switch
        {
            _ when i % 4 == 0 => $"'srv{i % 50}_tool_{i}*':{{'action':'allow'}}",
            _ when i % 4 == 1 => $"'srv{i % 50}_tool_{i}':{{'action':'allow','when':{{'args.env':'dev'}}}}",
            _ => $"'srv{i % 50}_tool_{i}':{{'action':'allow'}}",
        });
        return Compile(WithRules("{" + string.Join(",", rules) + ",'*':{'action':'deny'}}", ",'hide':['secret_*']"));
    }

    [Fact]
    public void Evaluate_does_not_allocate()
    {
        var policy = ThousandRules();
        PolicyRequest[] requests =
        [
            Request("srv2_tool_2"),
            Request("srv1_tool_1", "{'env':'dev'}"),
            Request("srv0_tool_0_more"),
            Request("srv1_tool_1", "{'env':'prod'}"),
            Request("unknown_tool"),
            Request("secret_x"),
            Request("awx_list_jobs", agent: "someone"),
        ];
        foreach (var request in requests)
        {
            policy.Evaluate(request); // warm up
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            foreach (var request in requests)
            {
                policy.Evaluate(request);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
