using System.Net.Http.Json;
using System.Text.Json;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>The console JSON API as a script or the CLI would use it.</summary>
public static class ConsoleApi
{
    public static async Task<JsonElement[]> ListAsync(HttpClient http, string status = "pending") =>
        (await http.GetFromJsonAsync<JsonElement[]>($"/api/approvals?status={status}"))!;

    /// <summary>Waits until an approval for <paramref name="tool"/> is pending in the console, and returns it.</summary>
    public static async Task<JsonElement> WaitForPendingAsync(HttpClient http, string tool, Func<JsonElement, bool>? where = null) =>
        (await Eventually.GetAsync<JsonElement[]>(
            () => ListAsync(http)!,
            list => list?.Any(a => a.GetProperty("tool").GetString() == tool && (where?.Invoke(a) ?? true)) == true,
            what: $"a pending approval for {tool}")).First(a => a.GetProperty("tool").GetString() == tool && (where?.Invoke(a) ?? true));

    public static async Task<(HttpResponseMessage Response, JsonElement Body)> DecideAsync(HttpClient http, string id, bool approve, string? comment = null)
    {
        var response = await http.PostAsJsonAsync($"/api/approvals/{id}/{(approve ? "approve" : "deny")}", new { comment });
        return (response, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>Withdraws a pending approval (it ends as Cancelled).</summary>
    public static async Task<(HttpResponseMessage Response, JsonElement Body)> CancelAsync(HttpClient http, string id, string? comment = null)
    {
        var response = await http.PostAsJsonAsync($"/api/approvals/{id}/cancel", new { comment });
        return (response, await response.Content.ReadFromJsonAsync<JsonElement>());
    }
}
