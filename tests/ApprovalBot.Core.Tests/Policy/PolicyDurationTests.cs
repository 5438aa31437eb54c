using ApprovalBot.Core.Policy;

namespace ApprovalBot.Core.Tests.Policy;

public class PolicyDurationTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("15m", 900_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("2d", 172_800_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1d2h3m4s5ms", 93_784_005)]
    [InlineData("90s", 90_000)]
    [InlineData("0s", 0)]
    public void Parses(string text, long milliseconds)
    {
        Assert.True(PolicyDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("15")]
    [InlineData("m")]
    [InlineData("15 m")]
    [InlineData(" 15m")]
    [InlineData("15M")]
    [InlineData("1.5h")]
    [InlineData("-5m")]
    [InlineData("15min")]
    [InlineData("30m1h")]
    [InlineData("1m1m")]
    [InlineData("1w")]
    [InlineData("99999999999999999999d")]
    [InlineData("9999999999999d")]
    public void Rejects(string? text) => Assert.False(PolicyDuration.TryParse(text, out _));

    [Theory]
    [InlineData(500, "500ms")]
    [InlineData(5_400_000, "1h30m")]
    [InlineData(172_800_000, "2d")]
    [InlineData(93_784_005, "1d2h3m4s5ms")]
    [InlineData(0, "0s")]
    public void Formats(long milliseconds, string text)
    {
        Assert.Equal(text, PolicyDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.True(PolicyDuration.TryParse(text, out var back));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), back);
    }
}
