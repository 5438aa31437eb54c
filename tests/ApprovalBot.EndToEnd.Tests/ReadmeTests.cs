using System.Reflection;
using System.Text.RegularExpressions;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol.Server;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>The README a newcomer follows: its policy example fits the shipped sample, and addresses are explained in one place.</summary>
public sealed partial class ReadmeTests
{
    private static string Readme() => File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));

    /// <summary>The sample's tools as agents see them through the shipped configuration (upstream "agentwork", prefix "agentwork_").</summary>
    private static List<string> SampleTools() =>
        typeof(Agentwork.Sample.AgentworkTools).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttribute<McpServerToolAttribute>()?.Name)
            .OfType<string>()
            .Select(n => "agentwork_" + n)
            .ToList();

    [Fact]
    public void Policy_example_is_valid_and_names_the_sample_tools()
    {
        var section = Readme()[Readme().IndexOf("## Policy", StringComparison.Ordinal)..];
        var json = PolicyBlock().Match(section).Groups[1].Value;
        var tools = SampleTools();
        var parsed = Core.Policy.Policy.Parse(json);

        Assert.True(parsed.Success, string.Join("\n", parsed.Errors));
        Assert.Contains("agentwork_cancel_task", tools);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var names = document.RootElement.GetProperty("rules").EnumerateObject().Select(p => p.Name)
            .Concat(document.RootElement.GetProperty("hide").EnumerateArray().Select(e => e.GetString()!))
            .Where(n => n != "*")
            .ToList();
        Assert.NotEmpty(names);
        foreach (var name in names)
        {
            var pattern = new Regex("^" + Regex.Escape(name).Replace("\\*", ".*", StringComparison.Ordinal) + "$");
            Assert.True(tools.Any(pattern.IsMatch), $"README policy example: {name} matches no tool of the sample ({string.Join(", ", tools)})");
        }
    }

    [Fact]
    public void Ports_and_urls_are_explained_in_one_section()
    {
        var readme = Readme();
        var headings = Heading().Matches(readme).Select(m => m.Value).Where(h => h.Contains("URL", StringComparison.OrdinalIgnoreCase) || h.Contains("port", StringComparison.OrdinalIgnoreCase)).ToList();

        var heading = Assert.Single(headings);
        var start = readme.IndexOf(heading, StringComparison.Ordinal);
        var end = readme.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        var section = readme[start..end];
        foreach (var needed in new[] { "--urls", "ASPNETCORE_URLS", "5080", "already in use", "AllowedHosts", "--url ", "APPROVALBOT_URL", "console.token" })
        {
            Assert.Contains(needed, section);
        }

        // Said there and nowhere else.
        var outside = readme[..start] + readme[end..];
        Assert.DoesNotContain("ASPNETCORE_URLS", outside);
        Assert.DoesNotContain("already in use", outside);
    }

    [GeneratedRegex("```json\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex PolicyBlock();

    [GeneratedRegex("^## .*$", RegexOptions.Multiline)]
    private static partial Regex Heading();
}
