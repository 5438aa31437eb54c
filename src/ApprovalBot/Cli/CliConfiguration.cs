using ApprovalBot.Hosting;

namespace ApprovalBot.Cli;

/// <summary>
/// The configuration a server started with the same arguments and environment would see
/// (appsettings.json beside the program, <c>ASPNETCORE_URLS</c>, <c>ApprovalBot__…</c> variables,
/// <c>--Key=value</c> arguments), so CLI verbs find the server without being told.
/// </summary>
public static class CliConfiguration
{
    /// <summary>Builds the server's configuration from the <c>--Key=value</c> (and <c>--urls URL</c>) arguments among <paramref name="args"/>.</summary>
    public static IConfiguration Build(string[] args)
    {
        // The same builder the server uses, so sources and their order cannot drift apart.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ConfigurationArguments(args), ContentRootPath = AppContext.BaseDirectory });
        return builder.Configuration;
    }

    /// <summary>
    /// A URL the server can be reached at, found as the server finds where to listen: Urls (<c>--urls</c>,
    /// URLS, ASPNETCORE_URLS), else Kestrel:Endpoints, else HTTP_PORTS, else the default; an http one
    /// first, wildcard hosts (<c>*</c>, <c>+</c>, <c>0.0.0.0</c>, <c>[::]</c>) as localhost.
    /// </summary>
    public static string ServerUrl(IConfiguration configuration)
    {
        var urls = Split(configuration["urls"]).ToList();
        if (urls.Count == 0)
        {
            urls.AddRange(configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>());
        }

        if (urls.Count == 0)
        {
            urls.AddRange(Split(configuration["http_ports"]).Select(port => $"http://localhost:{port}"));
        }

        var url = urls.FirstOrDefault(u => u.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? urls.FirstOrDefault() ?? ServerHost.DefaultUrl;
        return ReachableUrl(url);
    }

    private static string[] Split(string? list) => (list ?? string.Empty).Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary><c>http://0.0.0.0:5080</c> is where a server listens, not an address to call: use localhost.</summary>
    public static string ReachableUrl(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return url;
        }

        var hostStart = schemeEnd + 3;
        var rest = url[hostStart..];
        foreach (var wildcard in new[] { "*", "+", "0.0.0.0", "[::]" })
        {
            if (rest.StartsWith(wildcard, StringComparison.Ordinal) && (rest.Length == wildcard.Length || rest[wildcard.Length] is ':' or '/'))
            {
                return url[..hostStart] + "localhost" + rest[wildcard.Length..];
            }
        }

        return url;
    }

    /// <summary>Configuration-shaped arguments: <c>--Key=value</c>, and <c>--urls URL</c> as the server accepts it.</summary>
    private static string[] ConfigurationArguments(string[] args)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && args[i].Contains('=', StringComparison.Ordinal))
            {
                result.Add(args[i]);
            }
            else if (args[i] == "--urls" && i + 1 < args.Length)
            {
                result.Add("--urls=" + args[++i]);
            }
        }

        return result.ToArray();
    }
}
