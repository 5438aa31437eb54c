using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using ApprovalBot.EndToEnd.Tests.Infrastructure;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

/// <summary>An api_key reaches the upstream when approved, and nothing else: not the bus, the databases, the logs or the console.</summary>
public sealed class RedactionTests
{
    [Fact]
    public async Task Api_key_never_leaves_the_upstream_call_path()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await GatewayHost.StartAsync(
            withEverything: false,
            settings: ["--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft=Information", "--Logging:LogLevel:ModelContextProtocol=Trace"],
            customize: b => b.Services.AddSingleton<ILoggerProvider>(logs));
        var messages = new ConcurrentQueue<string>();
        var bus = host.Get<IBus>();
        using var published = bus.ConnectPublishObserver(new MessageRecorder(messages));
        using var sent = bus.ConnectSendObserver(new MessageRecorder(messages));
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();

        var call = client.CallToolAsync("agentwork_cancel_task", new Dictionary<string, object?> { ["task_id"] = "T-100", ["api_key"] = GatewayHost.SampleApiKey }).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "agentwork_cancel_task");
        var page = await console.GetStringAsync("/approvals");
        var apiList = await console.GetStringAsync("/api/approvals?status=all");
        await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));

        // It did reach the upstream: the sample only answers this with the right key.
        Assert.Equal("Task T-100 (Nightly data export) cancelled.", Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        await Eventually.GetAsync(() => Task.FromResult<int?>(messages.Count(m => m.Contains("ApprovalExecuted", StringComparison.Ordinal))), c => c >= 1, what: "the execution event");
        await host.Get<Gateway.Storage.AuditTrail>().FlushAsync(CancellationToken.None);

        Assert.Contains(messages, m => m.Contains("[redacted]", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains(GatewayHost.SampleApiKey, StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Lines, l => l.Contains(GatewayHost.SampleApiKey, StringComparison.Ordinal));
        Assert.DoesNotContain(GatewayHost.SampleApiKey, page);
        Assert.DoesNotContain(GatewayHost.SampleApiKey, apiList);
        foreach (var file in Directory.EnumerateFiles(host.DataDirectory, "*.db*"))
        {
            var bytes = await ReadSharedAsync(file);
            Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(GatewayHost.SampleApiKey)), $"{Path.GetFileName(file)} holds the secret");
        }
    }

    [Fact]
    public async Task Secrets_recognised_by_value_pair_name_and_policy_reach_the_upstream_and_nothing_else()
    {
        var unique = Guid.NewGuid().ToString("n");
        var bearer = "tok" + unique[..20];
        var jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI" + unique[..12] + "In0.sig" + unique[12..24];
        var urlPassword = "urlpw" + unique[..10];
        var awsKey = "AKIA" + unique[..16].ToUpperInvariant();
        var ticket = "ACME-" + string.Concat(unique.Where(char.IsDigit).Concat("12345678").Take(8));
        var message = $"Deploy with Bearer {bearer} and {jwt} from https://deploy:{urlPassword}@git.example.com using {awsKey} for {ticket}";
        var byName = new Dictionary<string, string>
        {
            ["pwd"] = "pwd-" + unique, ["pass"] = "pass-" + unique, ["auth"] = "auth-" + unique, ["key"] = "key-" + unique,
            ["jwt"] = "jwt-" + unique, ["creds"] = "creds-" + unique, ["ssh_key"] = "sshkey-" + unique, ["customer_ssn"] = "ssn-" + unique,
        };
        var headerSecret = "hdr" + unique[..16];
        string[] secrets = [bearer, jwt, urlPassword, awsKey, ticket, headerSecret, .. byName.Values];
        var policy = TestPolicies.Standard
            .Replace("\"everything_echo\": { \"action\": \"allow\" }", "\"everything_echo\": { \"action\": \"require_approval\", \"timeout\": \"10m\" }")
            .Replace("\"default\": \"deny\",", "\"default\": \"deny\", \"redact\": { \"fields\": [\"customer_ssn\"], \"patterns\": [\"ACME-[0-9]{8}\"] },");
        var logs = new CapturingLoggerProvider();
        await using var host = await GatewayHost.StartAsync(
            policy: policy,
            settings: ["--Logging:LogLevel:Default=Trace", "--Logging:LogLevel:Microsoft=Information", "--Logging:LogLevel:ModelContextProtocol=Trace"],
            customize: b => b.Services.AddSingleton<ILoggerProvider>(logs));
        var messages = new ConcurrentQueue<string>();
        var bus = host.Get<IBus>();
        using var published = bus.ConnectPublishObserver(new MessageRecorder(messages));
        using var sent = bus.ConnectSendObserver(new MessageRecorder(messages));
        await using var client = await host.ConnectAsync();
        using var console = host.ConsoleClient();
        var arguments = new Dictionary<string, object?>
        {
            ["message"] = message,
            ["headers"] = new[] { new { name = "Authorization", value = "Token " + headerSecret }, new { name = "Accept", value = "text/plain" } },
        };
        foreach (var (name, value) in byName)
        {
            arguments[name] = value;
        }

        var call = client.CallToolAsync("everything_echo", arguments).AsTask();
        var pending = await ConsoleApi.WaitForPendingAsync(console, "everything_echo");
        var shown = pending.GetProperty("arguments").GetString()!;
        var apiList = await console.GetStringAsync("/api/approvals?status=all");
        await ConsoleApi.DecideAsync(console, pending.GetProperty("id").GetString()!, approve: true);
        var result = await call.WaitAsync(TimeSpan.FromSeconds(30));

        // The upstream got every secret as sent: redaction works on a copy.
        Assert.Equal("Echo: " + message, Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        // The approver still reads what the call does.
        Assert.Contains("Deploy with Bearer [redacted]", shown);
        Assert.Contains("https://deploy:[redacted]@git.example.com", shown);
        Assert.Contains("\"Accept\"", shown);
        await Eventually.GetAsync(() => Task.FromResult<int?>(messages.Count(m => m.Contains("ApprovalExecuted", StringComparison.Ordinal))), c => c >= 1, what: "the execution event");
        await host.Get<Gateway.Storage.AuditTrail>().FlushAsync(CancellationToken.None);
        var files = new List<(string Name, byte[] Bytes)>();
        foreach (var file in Directory.EnumerateFiles(host.DataDirectory, "*.db*"))
        {
            files.Add((Path.GetFileName(file), await ReadSharedAsync(file)));
        }

        Assert.NotEmpty(files);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, shown);
            Assert.DoesNotContain(secret, apiList);
            Assert.DoesNotContain(messages, m => m.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(logs.Lines, l => l.Contains(secret, StringComparison.Ordinal));
            foreach (var (name, bytes) in files)
            {
                Assert.False(Contains(bytes, Encoding.UTF8.GetBytes(secret)), $"{name} holds {secret}");
            }
        }
    }

    private static async Task<byte[]> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    private sealed class MessageRecorder(ConcurrentQueue<string> into) : IPublishObserver, ISendObserver
    {
        public Task PrePublish<T>(PublishContext<T> context) where T : class => Record(context.Message);
        public Task PostPublish<T>(PublishContext<T> context) where T : class => Task.CompletedTask;
        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
        public Task PreSend<T>(SendContext<T> context) where T : class => Record(context.Message);
        public Task PostSend<T>(SendContext<T> context) where T : class => Task.CompletedTask;
        public Task SendFault<T>(SendContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        private Task Record<T>(T message)
        {
            into.Enqueue(typeof(T).Name + " " + JsonSerializer.Serialize(message));
            return Task.CompletedTask;
        }
    }
}
