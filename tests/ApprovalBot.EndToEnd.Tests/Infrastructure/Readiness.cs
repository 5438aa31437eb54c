using System.Net.Http.Json;
using System.Text.Json;

namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

public static class Readiness
{
    /// <summary>The /readyz body, whether it says ready (200) or not (503).</summary>
    public static async Task<JsonElement> GetAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/readyz");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
