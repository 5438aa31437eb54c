using ApprovalBot.Gateway.Configuration;
using ApprovalBot.Gateway.Instance;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.Gateway.Upstreams;

/// <summary>Two upstreams expose the same prefixed name; <paramref name="Kept"/> serves it.</summary>
public sealed record CatalogCollision(string Kind, string Name, string Kept, string Refused)
{
    public string Describe() => $"Upstreams '{Kept}' and '{Refused}' both expose {Kind} '{Name}'";
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
        IReadOnlyList<(ResourceTemplate Template, UpstreamConnection Upstream)> templates,
        IReadOnlyList<CatalogCollision> collisions)
    {
        Collisions = collisions;
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

    /// <summary>Names that more than one upstream exposes; only the kept upstream's is in the catalogue.</summary>
    public IReadOnlyList<CatalogCollision> Collisions { get; }

    public static ToolCatalog Empty { get; } = Build([]);

    /// <summary>
    /// Merges the upstreams' lists. A name claimed by two upstreams stays with the one that served it
    /// in <paramref name="previous"/> (the earlier one), else with the first by upstream name; the
    /// clash is recorded in <see cref="Collisions"/>.
    /// </summary>
    public static ToolCatalog Build(IReadOnlyList<UpstreamConnection> connections, ToolCatalog? previous = null)
    {
        var collisions = new List<CatalogCollision>();
        var tools = Merge(
            connections,
            l => l.Tools,
            t => t.Name,
            name => previous?.ToolsByName.GetValueOrDefault(name)?.Upstream,
            "tool",
            collisions,
            (connection, tool, exposedName) =>
            {
                var exposed = connection.Prefix.Length == 0 ? tool : GatewayInfo.Clone(tool);
                exposed.Name = exposedName;
                return new CatalogTool(exposedName, exposed, connection, tool.Name);
            });
        var prompts = Merge(
            connections,
            l => l.Prompts,
            p => p.Name,
            name => previous?.PromptsByName.GetValueOrDefault(name)?.Upstream,
            "prompt",
            collisions,
            (connection, prompt, exposedName) =>
            {
                var exposed = connection.Prefix.Length == 0 ? prompt : GatewayInfo.Clone(prompt);
                exposed.Name = exposedName;
                return new CatalogPrompt(exposedName, exposed, connection, prompt.Name);
            });
        var resources = new List<(Resource, UpstreamConnection)>();
        var templates = new List<(ResourceTemplate, UpstreamConnection)>();
        foreach (var connection in connections)
        {
            var lists = connection.Lists;
            resources.AddRange(lists.Resources.Select(r => (r, connection)));
            templates.AddRange(lists.ResourceTemplates.Select(t => (t, connection)));
        }

        return new ToolCatalog(
            tools,
            tools.ToDictionary(t => t.ExposedName, StringComparer.Ordinal),
            prompts,
            prompts.ToDictionary(p => p.ExposedName, StringComparer.Ordinal),
            resources,
            templates,
            collisions);
    }

    private static List<TEntry> Merge<TItem, TEntry>(
        IReadOnlyList<UpstreamConnection> connections,
        Func<UpstreamLists, IReadOnlyList<TItem>> itemsOf,
        Func<TItem, string> nameOf,
        Func<string, UpstreamConnection?> previousOwner,
        string kind,
        List<CatalogCollision> collisions,
        Func<UpstreamConnection, TItem, string, TEntry> create)
    {
        var claims = new Dictionary<string, List<UpstreamConnection>>(StringComparer.Ordinal);
        foreach (var connection in connections)
        {
            foreach (var item in itemsOf(connection.Lists))
            {
                var name = connection.Prefix + nameOf(item);
                if (!claims.TryGetValue(name, out var claimants))
                {
                    claims[name] = claimants = [];
                }

                if (!claimants.Contains(connection))
                {
                    claimants.Add(connection);
                }
            }
        }

        var owners = new Dictionary<string, UpstreamConnection>(claims.Count, StringComparer.Ordinal);
        foreach (var (name, claimants) in claims)
        {
            var owner = previousOwner(name) is { } earlier && claimants.Contains(earlier) ? earlier : claimants[0];
            owners[name] = owner;
            foreach (var other in claimants.Where(c => !ReferenceEquals(c, owner)))
            {
                collisions.Add(new CatalogCollision(kind, name, owner.Name, other.Name));
            }
        }

        var entries = new List<TEntry>();
        var added = new HashSet<string>(StringComparer.Ordinal);
        foreach (var connection in connections)
        {
            foreach (var item in itemsOf(connection.Lists))
            {
                var name = connection.Prefix + nameOf(item);
                if (ReferenceEquals(owners[name], connection) && added.Add(name))
                {
                    entries.Add(create(connection, item, name));
                }
            }
        }

        return entries;
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
