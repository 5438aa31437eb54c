using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Bot.Slack;

/// <summary>Events API: answers <c>url_verification</c>; every other event is acknowledged and ignored.</summary>
internal sealed class SlackEventHandler(ILogger<SlackEventHandler> logger)
{
    public JsonNode? Handle(JsonElement payload)
    {
        var type = SlackJson.ReadString(payload, "type");
        if (type == "url_verification")
        {
            return new JsonObject { ["challenge"] = SlackJson.ReadString(payload, "challenge") ?? "" };
        }

        SlackLog.UnhandledPayload(logger, "event", type == "event_callback" ? SlackJson.ReadString(payload, "event", "type") : type);
        return null;
    }
}
