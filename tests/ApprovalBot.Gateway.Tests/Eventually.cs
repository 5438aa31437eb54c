namespace ApprovalBot.Gateway.Tests;

/// <summary>Bounded polling for effects that arrive on another thread. It only waits for a condition; it asserts no timing.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }

            await Task.Delay(10);
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }

            await Task.Delay(10);
        }
    }

    public static async Task<T> Get<T>(Func<T?> probe, string what, TimeSpan? within = null)
        where T : class
    {
        T? value = null;
        await TrueAsync(() => (value = probe()) is not null, what, within);
        return value!;
    }
}
