using System.Net;
using System.Net.Sockets;

namespace ApprovalBot.Hosting;

/// <summary>
/// Finds a configured listening address that another process already holds, before anything
/// starts: the server's hosted services (upstream processes, the bus) start before Kestrel binds,
/// and a busy port should cost one line, not a start-up and a tear-down.
/// </summary>
public static class ListenCheck
{
    /// <summary>The first of <paramref name="urls"/> whose port is taken, or null (also for what cannot be checked here: Kestrel decides).</summary>
    public static string? FirstInUse(IEnumerable<string> urls)
    {
        foreach (var url in urls)
        {
            if (!Uri.TryCreate(ReplaceWildcard(url), UriKind.Absolute, out var uri) || uri.Port <= 0)
            {
                continue;
            }

            foreach (var address in AddressesFor(uri.Host))
            {
                if (IsInUse(address, uri.Port))
                {
                    return url;
                }
            }
        }

        return null;
    }

    /// <summary>The addresses Kestrel would bind for this host: both loopbacks for localhost, the wildcard for a name.</summary>
    private static IEnumerable<IPAddress> AddressesFor(string host)
    {
        var name = host.Trim('[', ']');
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return [IPAddress.Loopback, IPAddress.IPv6Loopback];
        }

        return IPAddress.TryParse(name, out var ip) ? [ip] : [IPAddress.Any];
    }

    private static bool IsInUse(IPAddress address, int port)
    {
        try
        {
            var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
            return false;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return true;
        }
        catch (SocketException)
        {
            // No IPv6 here, an address not on this machine, no permission: Kestrel reports those itself.
            return false;
        }
    }

    private static string ReplaceWildcard(string url) =>
        url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal);
}
