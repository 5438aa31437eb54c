using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;
using NJsonSchema;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>The Teams app manifest, its icons and the package command.</summary>
public sealed class TeamsManifestTests
{
    private static string ManifestFolder => Path.Combine(TeamsPaths.RepositoryRoot, "manifests", "teams");

    [Fact]
    public async Task Manifest_validates_against_the_Teams_v1_24_schema()
    {
        var schemaPath = Path.Combine(TeamsPaths.Schemas, "teams-manifest-v1.24.schema.json");
        var schema = await JsonSchema.FromFileAsync(schemaPath);
        var manifestText = await File.ReadAllTextAsync(Path.Combine(ManifestFolder, "manifest.json"));

        var errors = schema.Validate(manifestText);

        Assert.True(errors.Count == 0, "manifest.json: " + string.Join("; ", errors.Select(e => $"{e.Path}: {e.Kind}")));
    }

    [Fact]
    public async Task The_schema_check_does_catch_a_broken_manifest()
    {
        var schema = await JsonSchema.FromFileAsync(Path.Combine(TeamsPaths.Schemas, "teams-manifest-v1.24.schema.json"));
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ManifestFolder, "manifest.json")))!.AsObject();
        manifest["bots"]![0]!["botId"] = "not-a-guid";
        manifest["bots"]![0]!["scopes"] = new JsonArray("team", "everywhere");

        Assert.NotEmpty(schema.Validate(manifest.ToJsonString()));
    }

    [Fact]
    public void Manifest_declares_the_bot_the_commands_and_the_icons()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(ManifestFolder, "manifest.json")))!;

        Assert.Equal("https://developer.microsoft.com/json-schemas/teams/v1.24/MicrosoftTeams.schema.json", (string?)manifest["$schema"]);
        Assert.Equal("1.24", (string?)manifest["manifestVersion"]);
        var bot = manifest["bots"]![0]!;
        Assert.Equal(["team", "personal", "groupChat"], bot["scopes"]!.AsArray().Select(s => (string)s!));
        var titles = bot["commandLists"]!.AsArray().SelectMany(l => l!["commands"]!.AsArray()).Select(c => (string)c!["title"]!).ToList();
        Assert.Contains("policy status", titles);
        Assert.Contains("policy pending", titles);
        Assert.All(titles, t => Assert.True(t.Length <= 32));
        Assert.Equal("color.png", (string?)manifest["icons"]!["color"]);
        Assert.Equal("outline.png", (string?)manifest["icons"]!["outline"]);
        Assert.NotEmpty(manifest["validDomains"]!.AsArray());
    }

    [Theory]
    [InlineData("color.png", 192)]
    [InlineData("outline.png", 32)]
    public void Icons_have_the_required_sizes(string file, int size)
    {
        var image = Png.Read(Path.Combine(ManifestFolder, file));

        Assert.Equal(size, image.Width);
        Assert.Equal(size, image.Height);
    }

    [Fact]
    public void Color_icon_is_opaque_and_outline_icon_is_white_on_transparent()
    {
        var color = Png.Read(Path.Combine(ManifestFolder, "color.png"));
        Assert.All(color.Pixels(), p => Assert.Equal(255, p.A));

        var outline = Png.Read(Path.Combine(ManifestFolder, "outline.png"));
        var pixels = outline.Pixels().ToList();
        Assert.All(pixels, p => Assert.True(p.A == 0 || (p.R == 255 && p.G == 255 && p.B == 255), $"pixel {p} is neither transparent nor white"));
        Assert.Contains(pixels, p => p.A == 0);
        Assert.Contains(pixels, p => p.A == 255);
    }

    [Fact]
    public async Task Package_script_zips_the_three_files_at_the_root()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"approvalbot-teams-package-{Guid.NewGuid():N}");
        var zipPath = Path.Combine(folder, "approvalbot-teams.zip");
        try
        {
            var start = new ProcessStartInfo("bash")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = TeamsPaths.RepositoryRoot,
            };
            start.ArgumentList.Add(Path.Combine(TeamsPaths.RepositoryRoot, "scripts", "teams-package.sh"));
            start.ArgumentList.Add(zipPath);
            start.Environment["TEAMS_BOT_APP_ID"] = TeamsTestHost.AppId;
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"teams-package.sh failed: {await stdout} {await stderr}");

            using var zip = ZipFile.OpenRead(zipPath);
            Assert.Equal(["color.png", "manifest.json", "outline.png"], zip.Entries.Select(e => e.FullName).Order(StringComparer.Ordinal));
            await using var manifestStream = zip.GetEntry("manifest.json")!.Open();
            var packaged = await JsonNode.ParseAsync(manifestStream);
            Assert.Equal(TeamsTestHost.AppId, (string?)packaged!["bots"]![0]!["botId"]);
            await using var iconStream = zip.GetEntry("color.png")!.Open();
            using var copy = new MemoryStream();
            await iconStream.CopyToAsync(copy);
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(ManifestFolder, "color.png")), copy.ToArray());
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>Just enough PNG reading for the icon checks: 8-bit RGBA or RGB, non-interlaced.</summary>
    private sealed record Png(int Width, int Height, int Channels, byte[] Data)
    {
        public static Png Read(string path)
        {
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            int width = 0, height = 0, channels = 0;
            using var idat = new MemoryStream();
            for (var at = 8; at < bytes.Length;)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
                var type = System.Text.Encoding.ASCII.GetString(bytes, at + 4, 4);
                var body = bytes.AsSpan(at + 8, length);
                if (type == "IHDR")
                {
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    Assert.Equal(8, body[8]); // bit depth
                    channels = body[9] switch { 6 => 4, 2 => 3, _ => throw new NotSupportedException($"PNG colour type {body[9]}") };
                    Assert.Equal(0, body[12]); // not interlaced
                }
                else if (type == "IDAT")
                {
                    idat.Write(body);
                }

                at += 12 + length;
            }

            idat.Position = 0;
            using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
            using var raw = new MemoryStream();
            inflater.CopyTo(raw);
            return new Png(width, height, channels, Unfilter(raw.ToArray(), width, height, channels));
        }

        public IEnumerable<(byte R, byte G, byte B, byte A)> Pixels()
        {
            for (var i = 0; i < Data.Length; i += Channels)
            {
                yield return (Data[i], Data[i + 1], Data[i + 2], Channels == 4 ? Data[i + 3] : (byte)255);
            }
        }

        private static byte[] Unfilter(byte[] raw, int width, int height, int bpp)
        {
            var stride = width * bpp;
            var output = new byte[stride * height];
            for (var y = 0; y < height; y++)
            {
                var filter = raw[y * (stride + 1)];
                for (var x = 0; x < stride; x++)
                {
                    var value = raw[(y * (stride + 1)) + 1 + x];
                    var a = x >= bpp ? output[(y * stride) + x - bpp] : 0;
                    var b = y > 0 ? output[((y - 1) * stride) + x] : 0;
                    var c = x >= bpp && y > 0 ? output[((y - 1) * stride) + x - bpp] : 0;
                    output[(y * stride) + x] = (byte)(filter switch
                    {
                        0 => value,
                        1 => value + a,
                        2 => value + b,
                        3 => value + ((a + b) / 2),
                        4 => value + Paeth(a, b, c),
                        _ => throw new NotSupportedException($"PNG filter {filter}"),
                    });
                }
            }

            return output;
        }

        private static int Paeth(int a, int b, int c)
        {
            var p = a + b - c;
            int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
            return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        }
    }
}
