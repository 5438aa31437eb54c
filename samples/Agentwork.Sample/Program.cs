using Agentwork.Sample;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A small MCP server with Agentwork- and AWX-like tools whose state really changes, so the gateway
// has something destructive to guard. stdout is the MCP channel: logs go to stderr.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Services.AddSingleton<WorkState>();
builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "agentwork-sample", Version = "1.0.0" })
    .WithStdioServerTransport()
    .WithTools<AgentworkTools>()
    .WithTools<AwxTools>();
await builder.Build().RunAsync();
