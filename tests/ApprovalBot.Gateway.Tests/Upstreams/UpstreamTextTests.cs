using ApprovalBot.Gateway.Upstreams;

namespace ApprovalBot.Gateway.Tests.Upstreams;

public sealed class UpstreamTextTests
{
    [Theory]
    [InlineData("MCP server process exited unexpectedly (exit code: 137)\nServer's stderr tail:\nTOKEN=hunter2 leaked", "MCP server process exited unexpectedly (exit code: 137)")]
    [InlineData("  Connection refused (127.0.0.1:9)\r\n   at Foo.Bar()", "Connection refused (127.0.0.1:9)")]
    [InlineData("the upstream closed the connection", "the upstream closed the connection")]
    public void An_unavailable_upstream_is_explained_by_the_first_line_of_its_error_only(string message, string expected)
    {
        var reason = UpstreamText.Reason(message);

        Assert.Equal(expected, reason);
        Assert.DoesNotContain("hunter2", new UpstreamUnavailableException("agentwork", reason).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_reason_is_cut()
    {
        var reason = UpstreamText.Reason(new string('x', 1000));

        Assert.Equal(201, reason.Length);
        Assert.EndsWith("…", reason, StringComparison.Ordinal);
    }
}
