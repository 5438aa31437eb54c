using ApprovalBot.Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>Owns every configured upstream connection and the merged, prefixed catalog over them.</summary>
public sealed class UpstreamRegistry : BackgroundService
{
    private readonly IReadOnlyList<UpstreamConnection> _connections;
    private readonly object _catalogLock = new();
    private volatile CatalogSnapshot? _catalog;

    public UpstreamRegistry(GatewayOptions options, IUpstreamBridge bridge, TimeProvider time, ILoggerFactory loggerFactory)
    {
        _connections = options.Upstreams
            .Where(p => p.Value.Enabled)
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new UpstreamConnection(p.Key, p.Value, bridge, time, loggerFactory))
            .ToList();
    }

    public IReadOnlyList<UpstreamConnection> Connections => _connections;

    /// <summary>The merged catalog; rebuilt lazily when any upstream's lists changed.</summary>
    public ToolCatalog Catalog
    {
        get
        {
            // Read on every call (several times): no lock and no allocation while no upstream's lists changed.
            if (_catalog is { } current && current.IsCurrent(_connections))
            {
                return current.Catalog;
            }

            var source = _connections.Select(c => c.Lists).ToArray();
            lock (_catalogLock)
            {
                if (_catalog is not { } built || !built.IsCurrent(_connections))
                {
                    _catalog = built = new CatalogSnapshot(ToolCatalog.Build(_connections), source);
                }

                return built.Catalog;
            }
        }
    }

    /// <summary>A catalog and the upstream lists (immutable snapshots, compared by reference) it was built from.</summary>
    private sealed record CatalogSnapshot(ToolCatalog Catalog, UpstreamLists[] Source)
    {
        public bool IsCurrent(IReadOnlyList<UpstreamConnection> connections)
        {
            for (var i = 0; i < Source.Length; i++)
            {
                if (!ReferenceEquals(connections[i].Lists, Source[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Waits until every upstream has tried to connect once (or the token fires).</summary>
    public Task WhenFirstAttemptsDoneAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_connections.Select(c => c.FirstAttempt)).WaitAsync(cancellationToken);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_connections.Select(c => c.RunAsync(stoppingToken)));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}

/// <summary>A tool as agents see it, and where it really lives.</summary>
public sealed record CatalogTool(string ExposedName, Tool Exposed, UpstreamConnection Upstream, string UpstreamName);

public sealed record CatalogPrompt(string ExposedName, Prompt Exposed, UpstreamConnection Upstream, string UpstreamName);

/// <summary>Immutable merged view: exposed names are the upstream's prefix plus its own name.</summary>
public sealed class ToolCatalog
{
    private ToolCatalog(
        IReadOnlyList<CatalogTool> tools,
        IReadOnlyDictionary<string, CatalogTool> byName,
        IReadOnlyList<CatalogPrompt> prompts,
        IReadOnlyDictionary<string, CatalogPrompt> promptsByName,
        IReadOnlyList<(Resource Resource, UpstreamConnection Upstream)> resources,
        IReadOnlyList<(ResourceTemplate Template, UpstreamConnection Upstream)> templates)
    {
        Tools = tools;
        ToolsByName = byName;
        Prompts = prompts;
        PromptsByName = promptsByName;
        Resources = resources;
        Templates = templates;
    }

    public IReadOnlyList<CatalogTool> Tools { get; }
    public IReadOnlyDictionary<string, CatalogTool> ToolsByName { get; }
    public IReadOnlyList<CatalogPrompt> Prompts { get; }
    public IReadOnlyDictionary<string, CatalogPrompt> PromptsByName { get; }
    public IReadOnlyList<(Resource Resource, UpstreamConnection Upstream)> Resources { get; }
    public IReadOnlyList<(ResourceTemplate Template, UpstreamConnection Upstream)> Templates { get; }

    public static ToolCatalog Build(IReadOnlyList<UpstreamConnection> connections)
    {
        var tools = new List<CatalogTool>();
        var byName = new Dictionary<string, CatalogTool>(StringComparer.Ordinal);
        var prompts = new List<CatalogPrompt>();
        var promptsByName = new Dictionary<string, CatalogPrompt>(StringComparer.Ordinal);
        var resources = new List<(Resource, UpstreamConnection)>();
        var templates = new List<(ResourceTemplate, UpstreamConnection)>();
        foreach (var connection in connections)
        {
            var lists = connection.Lists;
            foreach (var tool in lists.Tools)
            {
                var exposedName = connection.Prefix + tool.Name;
                // First upstream (by name) wins a name clash; the loser stays reachable under its own prefix only.
                if (byName.ContainsKey(exposedName))
                {
                    continue;
                }

                var exposed = connection.Prefix.Length == 0 ? tool : GatewayInfo.Clone(tool);
                exposed.Name = exposedName;
                var entry = new CatalogTool(exposedName, exposed, connection, tool.Name);
                tools.Add(entry);
                byName[exposedName] = entry;
            }

            foreach (var prompt in lists.Prompts)
            {
                var exposedName = connection.Prefix + prompt.Name;
                if (promptsByName.ContainsKey(exposedName))
                {
                    continue;
                }

                var exposed = connection.Prefix.Length == 0 ? prompt : GatewayInfo.Clone(prompt);
                exposed.Name = exposedName;
                var entry = new CatalogPrompt(exposedName, exposed, connection, prompt.Name);
                prompts.Add(entry);
                promptsByName[exposedName] = entry;
            }

            resources.AddRange(lists.Resources.Select(r => (r, connection)));
            templates.AddRange(lists.ResourceTemplates.Select(t => (t, connection)));
        }

        return new ToolCatalog(tools, byName, prompts, promptsByName, resources, templates);
    }

    /// <summary>Which upstream serves a resource URI: a listed resource, else the template with the longest matching literal prefix.</summary>
    public UpstreamConnection? FindResourceOwner(string uri)
    {
        foreach (var (resource, upstream) in Resources)
        {
            if (string.Equals(resource.Uri, uri, StringComparison.Ordinal))
            {
                return upstream;
            }
        }

        UpstreamConnection? best = null;
        var bestLength = -1;
        foreach (var (template, upstream) in Templates)
        {
            var literal = template.UriTemplate;
            var brace = literal.IndexOf('{', StringComparison.Ordinal);
            var prefix = brace < 0 ? literal : literal[..brace];
            if (uri.StartsWith(prefix, StringComparison.Ordinal) && prefix.Length > bestLength)
            {
                best = upstream;
                bestLength = prefix.Length;
            }
        }

        return best;
    }
}
