using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Teams;

/// <summary>The bodies that answer an <c>adaptiveCard/action</c> invoke (a click on <c>Action.Execute</c>).</summary>
internal static class TeamsInvokeResponse
{
    /// <summary>Replaces the clicker's card with <paramref name="card"/>.</summary>
    public static JsonObject Card(JsonObject card) => new()
    {
        ["statusCode"] = 200,
        ["type"] = TeamsText.ContentType,
        ["value"] = card,
    };

    /// <summary>The click could not be processed; Teams shows <paramref name="message"/>.</summary>
    public static JsonObject Error(int statusCode, string code, string message) => new()
    {
        ["statusCode"] = statusCode,
        ["type"] = "application/vnd.microsoft.error",
        ["value"] = new JsonObject { ["code"] = code, ["message"] = message },
    };
}
