namespace ApprovalBot.EndToEnd.Tests.Infrastructure;

/// <summary>Bounded polling for effects that arrive asynchronously (bus, audit writer). Not a timing assertion: it only waits.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T?>> probe, Func<T?, bool> done, TimeSpan? within = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        T? last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await probe();
            if (done(last))
            {
                return last!;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Gave up waiting for {what ?? "a condition"}; last value: {last}");
    }
}
