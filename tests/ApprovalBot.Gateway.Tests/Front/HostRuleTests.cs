using ApprovalBot.Gateway.Front;
using Microsoft.AspNetCore.Http;

namespace ApprovalBot.Gateway.Tests.Front;

/// <summary>Gateway:AllowedHosts and its default, the DNS-rebinding guard on the Host header.</summary>
public class HostRuleTests
{
    [Theory]
    [InlineData("localhost:5080", true)]
    [InlineData("127.0.0.1:5080", true)]
    [InlineData("[::1]:5080", true)]
    [InlineData("app.localhost", true)]
    [InlineData("evil.example:5080", false)]
    [InlineData("192.168.1.10:5080", false)]
    [InlineData("", false)]
    public void Bound_to_loopback_only_loopback_names_are_accepted(string host, bool allowed)
    {
        var rule = HostRule.Create([], ["http://localhost:5080", "http://127.0.0.1:5080"]);

        Assert.Equal(allowed, rule.Allows(new HostString(host)));
    }

    [Theory]
    [InlineData("http://0.0.0.0:5080")]
    [InlineData("http://[::]:5080")]
    [InlineData("http://+:5080")]
    public void Bound_to_every_interface_without_configured_names_any_host_is_accepted(string address)
    {
        var rule = HostRule.Create([], [address]);

        Assert.True(rule.Allows(new HostString("gateway.internal:5080")));
    }

    [Fact]
    public void Configured_names_replace_the_default()
    {
        var rule = HostRule.Create(["gateway.example.com", "*.corp.example", "[::1]"], ["http://127.0.0.1:5080"]);

        Assert.True(rule.Allows(new HostString("gateway.example.com:443")));
        Assert.True(rule.Allows(new HostString("GATEWAY.example.com")));
        Assert.True(rule.Allows(new HostString("a.corp.example")));
        Assert.True(rule.Allows(new HostString("[::1]:5080")));
        Assert.False(rule.Allows(new HostString("corp.example")));
        Assert.False(rule.Allows(new HostString("localhost:5080")));
        Assert.False(rule.Allows(new HostString("evil.example")));
    }

    [Fact]
    public void A_star_accepts_any_host()
    {
        Assert.True(HostRule.Create(["*"], ["http://127.0.0.1:5080"]).Allows(new HostString("evil.example")));
    }
}
