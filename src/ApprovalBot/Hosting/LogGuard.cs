using ApprovalBot.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ModelContextProtocol;

namespace ApprovalBot.Hosting;

/// <summary>
/// Caps on logging that no configuration can lift. Log levels are configuration (and a
/// provider-specific rule such as <c>Logging:Console:LogLevel:ModelContextProtocol=Trace</c> beats
/// any filter added in code), so the caps sit in the logger factory itself:
/// <list type="bullet">
/// <item>The MCP SDK logs whole JSON-RPC messages — arguments with their secrets, tool results —
/// only at Trace: its categories never log at Trace.</item>
/// <item>An MCP protocol error (unknown or hidden tool, invalid parameters, an upstream's JSON-RPC
/// error) is an answer, not a fault: the SDK's warning with a stack trace becomes a Debug line
/// without one. The gateway logs its own one line per call. So does a cancellation (a client
/// that went away, a connection attempt cut short by shutdown).</item>
/// <item>A port already in use is reported by the command line in one sentence; the host's stack
/// trace for it is not logged.</item>
/// </list>
/// </summary>
public static class LogGuard
{
    public const string McpCategoryPrefix = "ModelContextProtocol";

    /// <summary>Replaces the host's <see cref="ILoggerFactory"/> with the guarded one (same providers, same filter rules).</summary>
    public static IServiceCollection AddLogGuard(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new GuardedLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(),
            sp.GetService<IExternalScopeProvider>()))));
        return services;
    }

    /// <summary>True for failures the command line reports itself, in one line.</summary>
    internal static bool IsReportedByCommandLine(Exception? exception) =>
        Find<AddressInUseException>(exception) is not null || Find<StorageUnavailableException>(exception) is not null;

    /// <summary><paramref name="exception"/> or the first of its inner exceptions that is a <typeparamref name="T"/>.</summary>
    internal static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }

    internal sealed class GuardedLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) =>
            new GuardedLogger(inner.CreateLogger(categoryName), categoryName.StartsWith(McpCategoryPrefix, StringComparison.Ordinal));

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() => inner.Dispose();
    }

    internal sealed class GuardedLogger(ILogger inner, bool mcp) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => (!mcp || logLevel > LogLevel.Trace) && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if ((mcp && logLevel <= LogLevel.Trace) || IsReportedByCommandLine(exception))
            {
                return;
            }

            if (mcp && exception is McpProtocolException or OperationCanceledException && logLevel > LogLevel.Debug)
            {
                inner.Log(LogLevel.Debug, eventId, state, null, formatter);
                return;
            }

            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
