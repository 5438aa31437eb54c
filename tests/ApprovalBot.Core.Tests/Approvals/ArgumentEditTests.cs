using System.Text.Json;
using ApprovalBot.Core.Approvals;
using ApprovalBot.Core.Redaction;

namespace ApprovalBot.Core.Tests.Approvals;

/// <summary>Edit, then approve: hidden values are kept and can neither be changed nor removed; nothing secret can be typed in.</summary>
public class ArgumentEditTests
{
    private static readonly SecretRedactor Redactor = new();

    private static readonly Dictionary<string, JsonElement> Original = new()
    {
        ["task_id"] = JsonSerializer.SerializeToElement("T-100"),
        ["api_key"] = JsonSerializer.SerializeToElement("sk-live-secret-0123456789"),
        ["target"] = JsonSerializer.SerializeToElement(new { url = "https://bob:hunter2@example.com/x", retries = 2 }),
        ["tags"] = JsonSerializer.SerializeToElement(new[] { "a", "b" }),
    };

    private static string Shown => Redactor.RedactToJson(Original);

    [Fact]
    public void A_visible_change_keeps_every_hidden_value_including_inside_nested_objects()
    {
        var shown = JsonDocument.Parse(Shown).RootElement;
        Assert.Equal("[redacted]", shown.GetProperty("api_key").GetString());
        Assert.Contains("[redacted]", shown.GetProperty("target").GetProperty("url").GetString());
        var edit = Shown.Replace("\"T-100\"", "\"T-101\"", StringComparison.Ordinal).Replace("\"retries\":2", "\"retries\":5", StringComparison.Ordinal);

        var atDecision = ArgumentEdit.Apply(edit, Shown, null, Redactor);
        var atRun = ArgumentEdit.Apply(edit, Shown, Original, Redactor);

        Assert.True(atDecision.Succeeded, atDecision.Error);
        Assert.True(atDecision.Changed);
        Assert.Equal(atDecision.Edit, atRun.Edit);
        Assert.DoesNotContain("hunter2", atDecision.Arguments!.ToJsonString());
        Assert.DoesNotContain("sk-live", atDecision.Edit);
        var run = atRun.Arguments!;
        Assert.Equal("T-101", run["task_id"]!.GetValue<string>());
        Assert.Equal("sk-live-secret-0123456789", run["api_key"]!.GetValue<string>());
        Assert.Equal("https://bob:hunter2@example.com/x", run["target"]!["url"]!.GetValue<string>());
        Assert.Equal(5, run["target"]!["retries"]!.GetValue<int>());
        Assert.Contains("#/api_key", atRun.HiddenPaths);
        Assert.Contains("#/target/url", atRun.HiddenPaths);
    }

    [Fact]
    public void The_edit_as_shown_is_no_change()
    {
        var result = ArgumentEdit.Apply(Shown, Shown, Original, Redactor);

        Assert.True(result.Succeeded);
        Assert.False(result.Changed);
        Assert.Equal(JsonSerializer.Serialize(Original), result.Arguments!.ToJsonString());
    }

    [Theory]
    [InlineData("\"api_key\":\"[redacted]\"", "\"api_key\":\"[redacted]x\"", "#/api_key")]
    [InlineData(",\"api_key\":\"[redacted]\"", "", "#/api_key holds a hidden value; it cannot be removed")]
    [InlineData("\"tags\":[\"a\",\"b\"]", "\"tags\":[\"a\",\"b\"],\"password\":\"letmein\"", "looks like a secret")]
    [InlineData("\"tags\":[\"a\",\"b\"]", "\"tags\":[\"a\",\"[redacted]\"]", "can only stand for a hidden value")]
    [InlineData("\"task_id\":\"T-100\"", "\"task_id\":\"Bearer abcdefghijklmnopqrstuvwxyz123456\"", "looks like a secret")]
    public void Edits_that_touch_hidden_values_or_bring_secrets_are_refused(string from, string to, string error)
    {
        var edit = Shown.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Shown, edit);

        var result = ArgumentEdit.Apply(edit, Shown, Original, Redactor);

        Assert.False(result.Succeeded);
        Assert.Contains(error, result.Error);
        Assert.Null(result.Arguments);
    }

    [Theory]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("{nope", "not valid JSON")]
    public void Only_a_json_object_is_an_edit(string edit, string error)
    {
        Assert.Contains(error, ArgumentEdit.Apply(edit, Shown, Original, Redactor).Error);
    }
}
