using ApprovalBot.Core.Policy;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ApprovalBot.Gateway.Policies;

/// <summary>
/// Holds the active policy. Loaded once at start (an invalid file stops start-up), then reloaded
/// when the file changes; a reload that fails keeps the last good policy and says why.
/// </summary>
public sealed partial class PolicyStore : IHostedService, IDisposable
{
    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger<PolicyStore> _logger;
    private FileSystemWatcher? _watcher;
    private CancellationTokenSource? _debounce;
    private volatile PolicyState _state;

    public PolicyStore(string path, Policy initial, TimeProvider time, ILogger<PolicyStore> logger)
    {
        _path = Path.GetFullPath(path);
        _time = time;
        _logger = logger;
        _state = new PolicyState(initial, time.GetUtcNow(), null, 1);
    }

    public Policy Current => _state.Policy;

    /// <summary>Raised after a reload put a new policy in place (its hide list may change what agents see).</summary>
    public event Action<PolicyState>? Reloaded;

    public PolicyState State => _state;

    public string FilePath => _path;

    /// <summary>Reads and validates a policy file; errors name the JSON path (or the file problem).</summary>
    public static PolicyParseResult Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new PolicyParseResult(null, [new PolicyError("$", $"cannot read policy file {path}: {e.Message}")]);
        }

        return Policy.Parse(json);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(_path)!;
        _watcher = new FileSystemWatcher(directory, Path.GetFileName(_path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
            EnableRaisingEvents = true,
        };
        _watcher.Changed += (_, _) => ScheduleReload();
        _watcher.Created += (_, _) => ScheduleReload();
        _watcher.Renamed += (_, _) => ScheduleReload();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _watcher?.Dispose();
        _watcher = null;
        return Task.CompletedTask;
    }

    /// <summary>Reload now; returns the errors (empty on success).</summary>
    public IReadOnlyList<PolicyError> Reload()
    {
        var result = Load(_path);
        if (result.Success)
        {
            var previous = _state;
            var state = new PolicyState(result.Policy!, _time.GetUtcNow(), null, previous.Generation + 1);
            _state = state;
            LogPolicyReloaded(_logger, _path, result.Policy!.Summary);
            Reloaded?.Invoke(state);
            return [];
        }

        _state = _state with { LastError = string.Join("; ", result.Errors) };
        foreach (var error in result.Errors)
        {
            LogPolicyReloadRejected(_logger, _path, error.ToString());
        }

        return result.Errors;
    }

    private void ScheduleReload()
    {
        // Editors write files in several steps; wait for the writes to settle.
        var cts = new CancellationTokenSource();
        Interlocked.Exchange(ref _debounce, cts)?.Cancel();
        _ = Task.Delay(TimeSpan.FromMilliseconds(250), _time, cts.Token).ContinueWith(
            t =>
            {
                if (!t.IsCanceled)
                {
                    Reload();
                }
            },
            TaskScheduler.Default);
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Cancel();
    }

    [LoggerMessage(EventName = "PolicyReloaded", Level = LogLevel.Information, Message = "Policy reloaded from {Path}: {Summary}")]
    private static partial void LogPolicyReloaded(ILogger logger, string path, string summary);

    [LoggerMessage(EventName = "PolicyReloadRejected", Level = LogLevel.Error, Message = "Policy file {Path} rejected, keeping the last good policy: {Error}")]
    private static partial void LogPolicyReloadRejected(ILogger logger, string path, string error);
}

/// <param name="LastError">Why the latest reload was refused, if it was.</param>
public sealed record PolicyState(Policy Policy, DateTimeOffset LoadedAt, string? LastError, int Generation);
