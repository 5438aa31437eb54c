// A minimal ApprovalBot webhook receiver: verifies each request, refuses replays, prints the event.
//   WEBHOOK_SECRET=… dotnet run --project samples/Webhook.Receiver -- --urls http://localhost:5090
// and configure the gateway with
//   ApprovalBot__Webhooks__demo__Url=http://localhost:5090/approvalbot
//   ApprovalBot__Webhooks__demo__Secret=<the same secret>
//   ApprovalBot__Webhooks__demo__Events__0=*
using Microsoft.AspNetCore.Builder;
using Webhook.Receiver;

var secret = Environment.GetEnvironmentVariable("WEBHOOK_SECRET");
if (string.IsNullOrEmpty(secret))
{
    Console.Error.WriteLine("Set WEBHOOK_SECRET to the webhook's Secret.");
    return 2;
}

var app = WebApplication.CreateBuilder(args).Build();
app.MapWebhookReceiver("/approvalbot", secret, (e, _) =>
{
    var approval = e.Body.GetProperty("approval");
    var tool = e.Body.GetProperty("tool").GetString();
    Console.WriteLine($"{e.Type} {e.Id}: {tool} by agent {e.Body.GetProperty("agent").GetString()} — {e.Body.GetProperty("decision").GetString()}"
        + (approval.ValueKind == System.Text.Json.JsonValueKind.Object ? $" (approval {approval.GetProperty("id").GetString()}, {approval.GetProperty("status").GetString()})" : ""));
    return Task.CompletedTask;
});
app.Run();
return 0;
