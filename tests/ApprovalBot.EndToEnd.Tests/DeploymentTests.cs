using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ApprovalBot.Bot.Slack;
using ApprovalBot.Bot.Teams;
using ApprovalBot.Configuration;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>
/// The deployment files at the repository root: docker-compose.yml is valid for Compose,
/// appsettings.example.json documents every key of the README's configuration table and passes the
/// real validator, and the Dockerfile copies every project the executable needs.
/// </summary>
public sealed partial class DeploymentTests
{
    private static string RootFile(params string[] parts) => Path.Combine([RepoPaths.Root, .. parts]);

    // ---- docker-compose.yml ---------------------------------------------------------------------

    [Fact]
    public async Task Compose_file_passes_docker_compose_config()
    {
        var compose = await FindComposeAsync();
        Assert.True(
            compose is not null,
            "Neither `docker-compose` nor `docker compose` is installed, so docker-compose.yml cannot be checked. "
            + "Install Debian's docker-compose package (apt-get install docker-compose); scripts/test.sh does it.");

        // Defaults only, as on a host with no .env: every ${VAR:-default} must resolve.
        var (exit, output) = await RunAsync(compose!.Value.File, [.. compose.Value.Prefix, "-f", "docker-compose.yml", "config"], RepoPaths.Root);
        Assert.True(exit == 0, $"`{compose.Value.Display} config` failed (exit {exit}):\n{output}");
        foreach (var expected in new[]
        {
            "rabbitmq:3.13-management", "rabbitmq-diagnostics", "service_healthy",
            "--ApprovalBot:Role=gateway", "--ApprovalBot:Role=bot", "ApprovalBot__Gateway__InstanceId", "gateway-1",
            "ApprovalBot__Bus__Transport", "RabbitMq", "/etc/approvalbot/policy.json", "gateway-data", "bot-data",
        })
        {
            Assert.Contains(expected, output);
        }

        // The settings reach the services from the environment (as from a .env file).
        var environment = new Dictionary<string, string>
        {
            ["SLACK_ENABLED"] = "true",
            ["SLACK_BOT_TOKEN"] = "xoxb-from-the-environment",
            ["AGENT_ASSISTANT_KEY_SHA256"] = new string('a', 64),
            ["GATEWAY_PORT"] = "9443",
        };
        (exit, output) = await RunAsync(compose.Value.File, [.. compose.Value.Prefix, "-f", "docker-compose.yml", "config"], RepoPaths.Root, environment);
        Assert.True(exit == 0, $"`{compose.Value.Display} config` with settings failed (exit {exit}):\n{output}");
        Assert.Contains("xoxb-from-the-environment", output);
        Assert.Contains(new string('a', 64), output);
        Assert.Contains("9443", output);
    }

    [Fact]
    public async Task Compose_ha_profile_runs_two_gateways_and_two_bots_on_one_PostgreSQL()
    {
        var compose = await FindComposeAsync();
        Assert.True(compose is not null, "docker-compose is not installed (scripts/test.sh installs it).");

        // Default: each process keeps its own SQLite files.
        var (exit, output) = await RunAsync(compose!.Value.File, [.. compose.Value.Prefix, "-f", "docker-compose.yml", "config"], RepoPaths.Root);
        Assert.True(exit == 0, output);
        Assert.Contains("ApprovalBot__Storage__Provider: Sqlite", output);

        var environment = new Dictionary<string, string>
        {
            ["COMPOSE_PROFILES"] = "ha",
            ["STORAGE_PROVIDER"] = "Postgres",
            ["POSTGRES_PASSWORD"] = "pg-secret-from-env",
        };
        (exit, output) = await RunAsync(compose.Value.File, [.. compose.Value.Prefix, "-f", "docker-compose.yml", "config"], RepoPaths.Root, environment);
        Assert.True(exit == 0, $"`{compose.Value.Display} config` with the ha profile failed (exit {exit}):\n{output}");
        foreach (var expected in new[] { "gateway-2:", "bot-2:", "postgres:17", "pg_isready", "ApprovalBot__Gateway__InstanceId: gateway-2", "ApprovalBot__Bus__BotInstanceId: bot-2" })
        {
            Assert.Contains(expected, output);
        }

        // All four processes on the shared store, each gateway its own instance id; the password from its own variable.
        Assert.Equal(4, CountOf(output, "ApprovalBot__Storage__Provider: Postgres"));
        Assert.Equal(4, CountOf(output, "ApprovalBot__Storage__Postgres__Password: pg-secret-from-env"));
        Assert.Equal(4, CountOf(output, "--ApprovalBot:Role="));
        Assert.All(
            output.Split('\n').Where(l => l.Contains("Postgres__ConnectionString", StringComparison.Ordinal)),
            line => Assert.DoesNotContain("Password=", line, StringComparison.Ordinal));
    }

    private static int CountOf(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [Fact]
    public void Files_that_the_compose_stack_and_the_Dockerfile_use_exist()
    {
        Assert.True(File.Exists(RootFile("examples", "policy.json")), "docker-compose.yml mounts ./examples/policy.json");
        var dockerfile = File.ReadAllLines(RootFile("Dockerfile"));

        // COPY sources of the build stage (not COPY --from=…) must exist in the build context.
        var sources = dockerfile
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1])
            .ToList();
        Assert.NotEmpty(sources);
        foreach (var source in sources)
        {
            Assert.True(File.Exists(RootFile(source)) || Directory.Exists(RootFile(source)), $"Dockerfile copies {source}, which does not exist");
        }

        // The restore layer copies project files one by one: every project the executable references
        // (transitively) must be among them, or `docker build` fails at restore.
        var missing = ReferencedProjects(RootFile("src", "ApprovalBot", "ApprovalBot.csproj"))
            .Select(p => Path.GetRelativePath(RepoPaths.Root, p).Replace('\\', '/'))
            .Where(p => !sources.Contains(p))
            .ToList();
        Assert.True(missing.Count == 0, "Dockerfile does not COPY these project files before `dotnet restore`: " + string.Join(", ", missing));

        // .dockerignore must not hide what the build stage needs.
        var ignored = File.ReadAllLines(RootFile(".dockerignore")).Select(l => l.Trim().Trim('/')).ToHashSet(StringComparer.Ordinal);
        foreach (var needed in new[] { "src", "samples", "examples", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.DoesNotContain(needed, ignored);
        }
    }

    // ---- appsettings.example.json ---------------------------------------------------------------

    [Fact]
    public void Example_settings_contain_every_key_of_the_README_configuration_table()
    {
        using var document = JsonDocument.Parse(
            File.ReadAllText(RootFile("appsettings.example.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        var paths = new List<string>();
        Flatten(document.RootElement, "", paths);

        var keys = ReadmeConfigurationKeys();
        Assert.True(keys.Count >= 30, $"only {keys.Count} keys parsed from README.md's configuration table; has its format changed?");
        var missing = keys.Where(k => !paths.Any(p => KeyPattern("ApprovalBot:" + k).IsMatch(p))).ToList();
        Assert.True(missing.Count == 0, "appsettings.example.json lacks these keys of README.md's configuration table: " + string.Join(", ", missing));

        // Kestrel's address and the log levels, which the README mentions beside the table.
        Assert.Contains("Urls", paths);
        Assert.Contains(paths, p => p.StartsWith("Logging:LogLevel:", StringComparison.Ordinal));
    }

    [Fact]
    public void Example_settings_have_no_key_that_the_program_does_not_read()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(RootFile("appsettings.example.json"), optional: false).Build();
        var strict = new Action<BinderOptions>(o => o.ErrorOnUnknownConfiguration = true);

        // Slack and Teams are bound by the bot from their own sections, the rest as ApprovalBotOptions.
        configuration.GetSection(SlackOptions.SectionPath).Get<SlackOptions>(strict);
        configuration.GetSection(TeamsOptions.SectionPath).Get<TeamsOptions>(strict);
        var rest = new ConfigurationBuilder()
            .AddInMemoryCollection(configuration.GetSection(ApprovalBotOptions.Section).AsEnumerable(makePathsRelative: true)
                .Where(p => p.Value is not null && !p.Key.StartsWith("Slack:", StringComparison.Ordinal) && !p.Key.StartsWith("Teams:", StringComparison.Ordinal)))
            .Build();
        var options = rest.Get<ApprovalBotOptions>(strict);

        Assert.NotNull(options);
        Assert.Equal(["agentwork", "awx", "github"], options.Gateway.Upstreams.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Example_settings_pass_the_configuration_validator()
    {
        // The example is read as the program reads it (JSON with comments). Placeholder secrets
        // ("xoxb-…", "<client secret>") already satisfy the validator, which checks presence and
        // shape, not the values. Only what must exist on this machine is overridden:
        //  - PolicyPath: the example's /etc/approvalbot/policy.json becomes the repository's examples/policy.json;
        //  - the github upstream's WorkingDirectory (/srv/mcp/github) becomes an existing folder.
        var workingDirectory = RepoPaths.NewTempDirectory();
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(RootFile("appsettings.example.json"), optional: false)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ApprovalBot:PolicyPath"] = RootFile("examples", "policy.json"),
                ["ApprovalBot:Gateway:Upstreams:github:WorkingDirectory"] = workingDirectory,
            })
            .Build();

        var (result, errors) = ConfigurationValidator.Validate(configuration, workingDirectory);

        Assert.True(errors.Count == 0, "appsettings.example.json is refused:\n" + string.Join("\n", errors));
        Assert.NotNull(result);
        Assert.Equal(ApprovalBot.Configuration.ServerRole.All, result.Options.Role);
        Assert.Equal("RabbitMq", result.Options.Bus.Transport);
        Assert.Equal(2, result.Options.Gateway.Agents.Count);
        Assert.False(result.Options.Gateway.Upstreams["agentwork"].Enabled);
        Assert.NotNull(result.Policy);
    }

    // ---- helpers --------------------------------------------------------------------------------

    /// <summary>The first column of README.md's configuration table, with "`A:B`, `C`" expanded to A:B and A:C.</summary>
    private static List<string> ReadmeConfigurationKeys()
    {
        var lines = File.ReadAllLines(RootFile("README.md"));
        var start = Array.FindIndex(lines, l => l.Trim() == "## Configuration");
        Assert.True(start >= 0, "README.md has no '## Configuration' section");
        var rows = lines.Skip(start + 1)
            .TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))
            .Where(l => l.TrimStart().StartsWith('|'))
            .ToList();
        var separator = rows.FindIndex(r => Regex.IsMatch(r, @"^\s*\|\s*:?-{3,}"));
        Assert.True(separator >= 0, "README.md's configuration table has no header separator");

        var keys = new List<string>();
        foreach (var row in rows.Skip(separator + 1))
        {
            var cell = row.Split('|')[1];
            var items = Backticked().Matches(cell).Select(m => m.Groups[1].Value.Trim()).ToList();
            if (items.Count == 0)
            {
                continue;
            }

            var first = items[0];
            var prefix = first.Contains(':') ? first[..(first.LastIndexOf(':') + 1)] : "";
            keys.Add(first);
            keys.AddRange(items.Skip(1).Select(i => i.Contains(':') ? i : prefix + i));
        }

        return keys;
    }

    /// <summary>A README key as a configuration path; <c>&lt;name&gt;</c> stands for any one segment.</summary>
    private static Regex KeyPattern(string key) =>
        new("^" + string.Join(":", key.Split(':').Select(s => s.StartsWith('<') && s.EndsWith('>') ? "[^:]+" : Regex.Escape(s))) + "$", RegexOptions.IgnoreCase);

    /// <summary>Every path of the document the way configuration names it (Section:Key, arrays as :0, :1 …).</summary>
    private static void Flatten(JsonElement element, string path, List<string> paths)
    {
        if (path.Length > 0)
        {
            paths.Add(path);
        }

        string Child(string name) => path.Length == 0 ? name : path + ":" + name;
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, Child(property.Name), paths);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, Child((index++).ToString(System.Globalization.CultureInfo.InvariantCulture)), paths);
                }

                break;
        }
    }

    private static IEnumerable<string> ReferencedProjects(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([Path.GetFullPath(project)]);
        while (queue.TryDequeue(out var current))
        {
            if (!seen.Add(current))
            {
                continue;
            }

            foreach (var reference in XDocument.Load(current).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")!.Value.Replace('\\', Path.DirectorySeparatorChar);
                queue.Enqueue(Path.GetFullPath(include, Path.GetDirectoryName(current)!));
            }
        }

        return seen;
    }

    private static async Task<(string File, string[] Prefix, string Display)?> FindComposeAsync()
    {
        if (await RunAsync("docker-compose", ["version"], RepoPaths.Root) is (0, _))
        {
            return ("docker-compose", [], "docker-compose");
        }

        if (await RunAsync("docker", ["compose", "version"], RepoPaths.Root) is (0, _))
        {
            return ("docker", ["compose"], "docker compose");
        }

        return null;
    }

    /// <summary>Runs a command; exit code -1 when it does not exist.</summary>
    private static async Task<(int Exit, string Output)> RunAsync(string file, string[] args, string workingDirectory, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception)
        {
            return (-1, $"{file}: not found");
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, await stdout + await stderr);
        }
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
