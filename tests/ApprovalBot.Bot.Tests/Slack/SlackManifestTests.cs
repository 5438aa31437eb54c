using System.Text.Json.Nodes;
using NJsonSchema;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>The app manifests against Slack's published JSON Schema (vendored in manifests/schemas).</summary>
public sealed class SlackManifestTests
{
    private static readonly string RepoRoot = FindRepoRoot();

    public static TheoryData<string> Manifests => new() { "manifest.yaml", "manifest.socket-mode.yaml", "manifest.json" };

    [Theory]
    [MemberData(nameof(Manifests))]
    public async Task Manifest_validates_against_the_Slack_schema(string file)
    {
        var schemaPath = Path.Combine(RepoRoot, "manifests", "schemas", "slack-manifest-v1.schema.json");
        Assert.True(File.Exists(schemaPath), $"Slack manifest schema not found at {schemaPath}");
        var schema = await JsonSchema.FromFileAsync(schemaPath);

        var manifest = Load(file);
        var errors = schema.Validate(manifest.ToJsonString());

        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Fact]
    public async Task Schema_check_catches_a_broken_manifest()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(RepoRoot, "manifests", "schemas", "slack-manifest-v1.schema.json"));
        var broken = Load("manifest.yaml");
        broken["display_information"]!["name"] = new string('x', 36);
        broken["features"]!["slash_commands"]![0]!["command"] = "policy";
        broken["unknown_section"] = true;
        Assert.True(schema.Validate(broken.ToJsonString()).Count >= 3);
    }

    [Fact]
    public void Yaml_and_json_twins_are_equal()
    {
        Assert.True(JsonNode.DeepEquals(Load("manifest.yaml"), Load("manifest.json")), "manifest.yaml and manifest.json differ");
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void Manifest_has_the_scopes_and_the_policy_command(string file)
    {
        var manifest = Load(file);
        Assert.Equal(1, manifest["_metadata"]!["major_version"]!.GetValue<long>());
        Assert.Equal(["chat:write", "commands"], manifest["oauth_config"]!["scopes"]!["bot"]!.AsArray().Select(s => s!.GetValue<string>()));
        var command = Assert.Single(manifest["features"]!["slash_commands"]!.AsArray())!;
        Assert.Equal("/policy", command["command"]!.GetValue<string>());
        Assert.True(manifest["settings"]!["interactivity"]!["is_enabled"]!.GetValue<bool>());
        Assert.NotNull(manifest["features"]!["bot_user"]);
    }

    [Fact]
    public void Http_mode_points_at_the_bot_endpoints()
    {
        var manifest = Load("manifest.yaml");
        Assert.False(manifest["settings"]!["socket_mode_enabled"]!.GetValue<bool>());
        Assert.Equal("https://approvalbot.example.com/slack/commands", manifest["features"]!["slash_commands"]![0]!["url"]!.GetValue<string>());
        Assert.Equal("https://approvalbot.example.com/slack/interactions", manifest["settings"]!["interactivity"]!["request_url"]!.GetValue<string>());
    }

    [Fact]
    public void Socket_mode_variant_has_no_urls()
    {
        var manifest = Load("manifest.socket-mode.yaml");
        Assert.True(manifest["settings"]!["socket_mode_enabled"]!.GetValue<bool>());
        Assert.DoesNotContain("url", manifest.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void MiniYaml_reads_the_subset_it_claims()
    {
        var node = MiniYaml.Parse("""
            # comment
            a:
              b: "quoted: #1"
              c: 'it''s'
              d: 42
              e: true
              list:
                - one
                - k: v
                  k2: 2
              empty:
            top: plain text # trailing comment
            """)!;
        var expected = JsonNode.Parse("""{"a":{"b":"quoted: #1","c":"it's","d":42,"e":true,"list":["one",{"k":"v","k2":2}],"empty":null},"top":"plain text"}""");
        Assert.True(JsonNode.DeepEquals(expected, node), node.ToJsonString());
        Assert.Throws<FormatException>(() => MiniYaml.Parse("a: [1, 2]"));
    }

    private static JsonNode Load(string file)
    {
        var path = Path.Combine(RepoRoot, "manifests", "slack", file);
        var text = File.ReadAllText(path);
        return (file.EndsWith(".json", StringComparison.Ordinal) ? JsonNode.Parse(text) : MiniYaml.Parse(text))
            ?? throw new InvalidOperationException($"{file} is empty");
    }

    /// <summary>Above this source file (builds may put their output anywhere, e.g. --artifacts-path), else above the output folder.</summary>
    private static string FindRepoRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory })
        {
            for (var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ApprovalBot.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        throw new InvalidOperationException("ApprovalBot.sln not found above the test sources or the test output folder.");
    }
}
