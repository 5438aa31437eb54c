using System.Text.Json;
using System.Text.Json.Nodes;
using ApprovalBot.Core.Redaction;
using PolicyFile = ApprovalBot.Core.Policy.Policy;

namespace ApprovalBot.Core.Tests.Redaction;

public class SecretRedactorTests
{
    private static readonly SecretRedactor Redactor = new();

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>Redacts <paramref name="json"/> and returns it parsed back (which also proves the output is readable JSON).</summary>
    private static JsonNode Redact(string json, SecretRedactor? redactor = null) =>
        JsonNode.Parse((redactor ?? Redactor).RedactToJson(Json(json)))!;

    private static string Field(string json, string name, SecretRedactor? redactor = null) =>
        Redact(json, redactor)[name]!.ToJsonString();

    // ---- by value ------------------------------------------------------------------------------

    [Theory]
    [InlineData("Bearer abcdef0123456789.xyz", "Bearer [redacted]")]
    [InlineData("use bearer sk_abcdef0123456789 for the call", "use bearer [redacted] for the call")]
    [InlineData("Basic dXNlcjpodW50ZXIy", "Basic [redacted]")]
    [InlineData("curl -H 'Authorization: Token 0123456789abcdef' https://x", "curl -H 'Authorization: [redacted]' https://x")]
    [InlineData("Cookie: session=abc; theme=dark", "Cookie: [redacted]")]
    public void Auth_credentials_in_free_text_are_masked_and_the_rest_stays(string text, string expected)
    {
        Assert.Equal(expected, Redactor.RedactText(text));
    }

    [Theory]
    [InlineData("Basic information about the task")]
    [InlineData("The bearer of this note")]
    [InlineData("Deploy version 1.2.3 to staging tonight")]
    [InlineData("see https://example.com/docs?page=2")]
    public void Ordinary_prose_is_left_alone(string text)
    {
        Assert.Equal(text, Redactor.RedactText(text));
    }

    [Fact]
    public void Jwt_anywhere_in_a_string_is_masked()
    {
        const string jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

        Assert.Equal("note: token [redacted] expires", Redactor.RedactText($"note: token {jwt} expires"));
        Assert.Equal("\"see [redacted] here\"", Field($$"""{"note": "see {{jwt}} here"}""", "note"));
    }

    [Fact]
    public void Pem_private_key_blocks_are_masked_whole_even_without_a_footer()
    {
        const string key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\nZm9vYmFy\n-----END RSA PRIVATE KEY-----";
        const string openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU";

        Assert.Equal("key follows: [redacted] done", Redactor.RedactText($"key follows: {key} done"));
        Assert.Equal("[redacted]", Redactor.RedactText(openssh));
        Assert.Equal("-----BEGIN CERTIFICATE-----\nMIIB", Redactor.RedactText("-----BEGIN CERTIFICATE-----\nMIIB"));
    }

    [Theory]
    [InlineData("clone https://alice:s3cr3t-pw@git.example.com/repo.git", "clone https://alice:[redacted]@git.example.com/repo.git")]
    [InlineData("postgres://app:p@ss:word@db:5432/main", "postgres://app:[redacted]@db:5432/main")]
    [InlineData("redis://:hunter2@cache:6379", "redis://:[redacted]@cache:6379")]
    [InlineData("https://x0a1b2c3d4e5f6a7b8c9d@github.com/o/r", "https://[redacted]@github.com/o/r")]
    [InlineData("ssh://git@github.com/o/r", "ssh://git@github.com/o/r")]
    [InlineData("mail bob@example.com about https://example.com", "mail bob@example.com about https://example.com")]
    public void Url_user_info_password_is_masked(string text, string expected)
    {
        Assert.Equal(expected, Redactor.RedactText(text));
    }

    [Theory]
    [InlineData("AKIAIOSFODNN7EXAMPLE")]
    [InlineData("ASIAY34FZKBOKMUTVV7A")]
    [InlineData("ghp_0123456789abcdefghijABCDEFGHIJ012345")]
    [InlineData("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOP")]
    [InlineData("glpat-0123456789abcdefghij")]
    [InlineData("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx")]
    [InlineData("xapp-1-A0123456789-0123456789012-abcdef")]
    [InlineData("sk_live_51H0123456789abcdefGHIJ")]
    [InlineData("rk_test_0123456789abcdefghij")]
    [InlineData("whsec_0123456789abcdefghijklmn")]
    [InlineData("sk-proj-0123456789abcdefghijklmnopqrstuvwxyz")]
    [InlineData("sk-ant-api03-0123456789abcdefghijklmnopqrstuvwxyz-ABCDEF")]
    [InlineData("AIzaSyA0123456789abcdefghijklmnopqrstuv")]
    [InlineData("npm_0123456789abcdefghijklmnopqrstuvwxyz")]
    [InlineData("hf_abcdefghijklmnopqrstuvwxyz0123456789")]
    public void Well_known_token_formats_are_masked_in_any_field(string token)
    {
        Assert.Equal("\"[redacted]\"", Field($$"""{"note": "{{token}}"}""", "note"));
        Assert.Equal("id [redacted], go", Redactor.RedactText($"id {token}, go"));
    }

    [Fact]
    public void Slack_webhook_url_path_is_masked()
    {
        Assert.Equal("post to https://hooks.slack.com/services/[redacted] now", Redactor.RedactText("post to https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX now"));
    }

    [Theory]
    [InlineData("Server=db;User Id=sa;Password=hunter2;", "Server=db;User Id=sa;Password=[redacted];")]
    [InlineData("GET /x?user=bob&api_key=abc123&page=2", "GET /x?user=bob&api_key=[redacted]&page=2")]
    [InlineData("DB_PASSWORD=hunter2\nDB_HOST=db", "DB_PASSWORD=[redacted]\nDB_HOST=db")]
    [InlineData("pwd: hunter2", "pwd: [redacted]")]
    [InlineData("{\"user\": \"bob\", \"secret\": \"s3\"}", "{\"user\": \"bob\", \"secret\": \"[redacted]\"}")]
    [InlineData("sort_key=abc task_id=T-1", "sort_key=abc task_id=T-1")]
    public void Credential_assignments_in_free_text_are_masked_by_their_name(string text, string expected)
    {
        Assert.Equal(expected, Redactor.RedactText(text));
    }

    // ---- by name -------------------------------------------------------------------------------

    [Theory]
    [InlineData("pwd")]
    [InlineData("pass")]
    [InlineData("auth")]
    [InlineData("key")]
    [InlineData("jwt")]
    [InlineData("creds")]
    [InlineData("ssh_key")]
    [InlineData("sshKey")]
    [InlineData("api_key")]
    [InlineData("X-Api-Key")]
    [InlineData("APIKey")]
    [InlineData("db_pass")]
    [InlineData("basicAuth")]
    [InlineData("access_token")]
    [InlineData("client_secret")]
    [InlineData("private_key")]
    [InlineData("signing_keys")]
    [InlineData("otp")]
    [InlineData("password")]
    [InlineData("Authorization")]
    public void Credential_names_are_masked(string name)
    {
        Assert.True(Redactor.IsSecretName(name), name);
        Assert.Equal("\"[redacted]\"", Field($$"""{"{{name}}": "plain-value"}""", name));
    }

    [Theory]
    [InlineData("task_id")]
    [InlineData("keyword")]
    [InlineData("keyboard_layout")]
    [InlineData("monkey")]
    [InlineData("key_id")]
    [InlineData("author")]
    [InlineData("compass")]
    [InlineData("bypass_cache")]
    [InlineData("sort_key")]
    [InlineData("routing_key")]
    [InlineData("public_key")]
    [InlineData("name")]
    [InlineData("comment")]
    public void Harmless_names_stay_visible(string name)
    {
        Assert.False(Redactor.IsSecretName(name), name);
        Assert.Equal("\"plain-value\"", Field($$"""{"{{name}}": "plain-value"}""", name));
    }

    [Fact]
    public void A_masked_name_hides_nested_values_but_not_booleans_or_token_counts()
    {
        var node = Redact("""{"credentials": {"user": "bob", "password": "x"}, "use_auth": true, "max_tokens": 1000, "token": null, "otp": 123456}""");

        Assert.Equal("[redacted]", node["credentials"]!.GetValue<string>());
        Assert.True(node["use_auth"]!.GetValue<bool>());
        Assert.Equal(1000, node["max_tokens"]!.GetValue<int>());
        Assert.Null(node["token"]);
        Assert.Equal("[redacted]", node["otp"]!.GetValue<string>());
    }

    [Fact]
    public void Credential_names_and_secret_values_are_found_at_any_depth_of_objects_and_arrays()
    {
        const string token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        var node = Redact($$$"""
            {"deploy": {"targets": [
                {"host": "web-1", "ssh": {"user": "ops", "Private-Key": "-----BEGIN"}},
                {"host": "web-2", "env": {"DB_PASSWORD": "hunter2", "DB_HOST": "db"}}
              ],
              "matrix": [["staging", "{{{token}}}"], [1, true, null]],
              "notes": ["plain", "send Bearer abcdef0123456789 along"]}}
            """);

        var targets = node["deploy"]!["targets"]!.AsArray();
        Assert.Equal("""{"user":"ops","Private-Key":"[redacted]"}""", targets[0]!["ssh"]!.ToJsonString());
        Assert.Equal("""{"DB_PASSWORD":"[redacted]","DB_HOST":"db"}""", targets[1]!["env"]!.ToJsonString());
        Assert.Equal(["web-1", "web-2"], targets.Select(t => t!["host"]!.GetValue<string>()));
        Assert.Equal("""[["staging","[redacted]"],[1,true,null]]""", node["deploy"]!["matrix"]!.ToJsonString());
        Assert.Equal("""["plain","send Bearer [redacted] along"]""", node["deploy"]!["notes"]!.ToJsonString());
        Assert.DoesNotContain(token, node.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", node.ToJsonString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apiKey")]
    [InlineData("API_KEY")]
    [InlineData("api-key")]
    [InlineData("Api.Key")]
    [InlineData("x_api_key")]
    [InlineData("ClientSecret")]
    [InlineData("CLIENT-SECRET")]
    public void A_credential_name_is_recognised_in_any_case_and_separator_style_inside_an_array(string name)
    {
        var node = Redact($$"""{"items": [{"{{name}}": "v-123", "label": "v-123"}]}""");

        Assert.Equal("[redacted]", node["items"]![0]![name]!.GetValue<string>());
        Assert.Equal("v-123", node["items"]![0]!["label"]!.GetValue<string>());
    }

    [Fact]
    public void Name_value_pairs_mask_the_value_of_a_credential_name_only()
    {
        var node = Redact("""
            {"headers": [
              {"name": "Authorization", "value": "Token 0123456789"},
              {"name": "Content-Type", "value": "application/json"},
              {"key": "X-Api-Key", "value": "abc"},
              {"key": "Accept", "value": "text/plain"}
            ],
             "env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "DB_HOST", "value": "db"}]}
            """);

        Assert.Equal(
            """[{"name":"Authorization","value":"[redacted]"},{"name":"Content-Type","value":"application/json"},{"key":"X-Api-Key","value":"[redacted]"},{"key":"Accept","value":"text/plain"}]""",
            node["headers"]!.ToJsonString());
        Assert.Equal("""[{"name":"DB_PASSWORD","value":"[redacted]"},{"name":"DB_HOST","value":"db"}]""", node["env"]!.ToJsonString());
    }

    [Fact]
    public void Json_inside_a_string_gets_the_name_rules()
    {
        var node = Redact("""{"body": "{\"user\": \"bob\", \"pwd\": \"hunter2\"}", "plain": "{not json}"}""");

        Assert.Equal("""{"user":"bob","pwd":"[redacted]"}""", node["body"]!.GetValue<string>());
        Assert.Equal("{not json}", node["plain"]!.GetValue<string>());
    }

    [Fact]
    public void Configured_fragments_add_to_the_built_in_rules()
    {
        var redactor = new SecretRedactor(SecretRedactor.DefaultPatterns.Concat(["ssn"]));

        Assert.Equal("\"[redacted]\"", Field("""{"customer_ssn": "123"}""", "customer_ssn", redactor));
        Assert.Equal("\"[redacted]\"", Field("""{"pwd": "x"}""", "pwd", redactor));
    }

    // ---- the policy's "redact" -----------------------------------------------------------------

    [Fact]
    public void Policy_fields_and_patterns_are_masked_and_follow_a_reload()
    {
        var policy = PolicyFile.Parse("""
            {"version": "1", "default": "deny",
             "redact": {"fields": ["customer_ssn", "acme_*_pin"], "patterns": ["ACME-[0-9]{8}"]}}
            """).Policy!;
        var current = policy.Redaction;
        var redactor = new SecretRedactor(null, () => current);
        const string args = """{"Customer-SSN": "123-45-6789", "acme_door_pin": "4711", "note": "ticket ACME-12345678 done", "id": "T-1"}""";

        var node = Redact(args, redactor);
        Assert.Equal("[redacted]", node["Customer-SSN"]!.GetValue<string>());
        Assert.Equal("[redacted]", node["acme_door_pin"]!.GetValue<string>());
        Assert.Equal("ticket [redacted] done", node["note"]!.GetValue<string>());
        Assert.Equal("T-1", node["id"]!.GetValue<string>());

        current = RedactionRules.None;
        Assert.Equal("123-45-6789", Redact(args, redactor)["Customer-SSN"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"fields": ["*"]}""", "$.redact.fields[0]", "at least one letter or digit")]
    [InlineData("""{"patterns": ["(unclosed"]}""", "$.redact.patterns[0]", "invalid regular expression")]
    [InlineData("""{"patterns": ["a*"]}""", "$.redact.patterns[0]", "matches the empty string")]
    [InlineData("""{"pattern": ["x"]}""", "$.redact.pattern", "did you mean \"patterns\"")]
    [InlineData("""{"fields": "pwd"}""", "$.redact.fields", "expected an array")]
    public void Bad_redact_options_are_refused_with_their_path(string redact, string path, string message)
    {
        var result = PolicyFile.Parse($$"""{"version": "1", "default": "deny", "redact": {{redact}}}""");

        Assert.False(result.Success);
        var error = Assert.Single(result.Errors);
        Assert.Equal(path, error.Path);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_site_pattern_that_runs_too_long_masks_the_whole_string()
    {
        // A backreference forces the backtracking engine; (a+)+ on a long run of a's never finishes in time.
        var rules = new RedactionRules([], [RedactionRules.TryCompilePattern(@"(a+)+\1b", out _)!]);
        var redactor = new SecretRedactor(null, () => rules);

        Assert.Equal("[redacted]", redactor.RedactText(new string('a', 40) + "c"));
        Assert.Equal("no match here", redactor.RedactText("no match here"));
    }

    // ---- robustness ----------------------------------------------------------------------------

    [Fact]
    public void Duplicate_keys_in_a_nested_object_never_throw_and_are_shown_apart()
    {
        var json = Redactor.RedactToJson(new Dictionary<string, JsonElement> { ["o"] = Json("""{"a": 1, "a": 2, "pwd": "x", "pwd": "y"}""") });

        // JsonNode throws on duplicate names when it reads them: proves the output has none.
        var node = JsonNode.Parse(json)!;
        Assert.Equal("""{"o":{"a":1,"a (duplicate 2)":2,"pwd":"[redacted]","pwd (duplicate 2)":"[redacted]"}}""", node.ToJsonString());
    }

    [Fact]
    public void Unreadable_strings_are_masked_not_thrown()
    {
        var json = Redactor.RedactToJson(Json("""{"note": "\ud800 lone surrogate", "ok": "fine"}"""));

        Assert.Equal("""{"note":"[redacted]","ok":"fine"}""", json);
    }

    [Fact]
    public void Redaction_leaves_the_arguments_it_reads_unchanged()
    {
        var arguments = new Dictionary<string, JsonElement>
        {
            ["api_key"] = Json("\"sk-agentwork-live-7f3a9c\""),
            ["note"] = Json("\"Bearer abcdef0123456789\""),
        };
        var before = JsonSerializer.Serialize(arguments);

        var redacted = Redactor.RedactToJson(arguments);

        Assert.Equal("""{"api_key":"[redacted]","note":"Bearer [redacted]"}""", redacted);
        Assert.Equal(before, JsonSerializer.Serialize(arguments));
    }

    [Fact]
    public void Null_and_missing_arguments_are_an_empty_object()
    {
        Assert.Equal("{}", Redactor.RedactToJson((JsonElement?)null));
        Assert.Equal("{}", Redactor.RedactToJson((IReadOnlyDictionary<string, JsonElement>?)null));
    }

    [Fact]
    public void Duplicate_keys_are_found_with_their_path()
    {
        var arguments = new Dictionary<string, JsonElement> { ["x"] = Json("1"), ["o"] = Json("""{"list": [{"a": 1}, {"b": 1, "b": 2}]}""") };

        Assert.Equal("arguments.o.list[1].b", DuplicateKeys.Find(arguments));
        Assert.Null(DuplicateKeys.Find(new Dictionary<string, JsonElement> { ["o"] = Json("""{"a": {"a": 1}}""") }));
    }
}
