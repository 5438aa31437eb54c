using System.Collections.Frozen;

namespace ApprovalBot.Core.Policy;

/// <summary>
/// Names and globs indexed for "most specific first" lookup. Exact names sit in a frozen dictionary;
/// globs sit in a trie keyed by their literal prefix, so a lookup walks the tool name once and only
/// visits globs whose prefix actually matches — deepest node (longest literal prefix) first, and
/// within a node by literal character count, then file order. Built once, read-only afterwards.
/// </summary>
internal sealed class GlobTable<T>
    where T : class
{
    private readonly FrozenDictionary<string, T> _exact;
    private readonly Node _root;

    /// <param name="entries">Patterns with their values, in file order.</param>
    public GlobTable(IEnumerable<(Glob Glob, T Value)> entries)
    {
        var exact = new Dictionary<string, T>(StringComparer.Ordinal);
        var root = new NodeBuilder();
        var order = 0;
        foreach (var (glob, value) in entries)
        {
            if (glob.IsLiteral)
            {
                exact.TryAdd(glob.Pattern, value);
                continue;
            }

            var node = root;
            foreach (var c in glob.LiteralPrefix)
            {
                if (!node.Children.TryGetValue(c, out var child))
                {
                    child = new NodeBuilder();
                    node.Children.Add(c, child);
                }

                node = child;
            }

            node.Entries.Add(new Entry(glob, value, order++));
        }

        _exact = exact.ToFrozenDictionary(StringComparer.Ordinal);
        _root = root.Build();
    }

    /// <summary>
    /// The most specific entry matching <paramref name="name"/> that <paramref name="accept"/> approves.
    /// Allocation-free when <paramref name="accept"/> is a static lambda.
    /// </summary>
    public T? FindFirst<TState>(string name, TState state, Func<T, TState, bool> accept)
    {
        if (_exact.TryGetValue(name, out var exact) && accept(exact, state))
        {
            return exact;
        }

        return Search(_root, name, 0, state, accept);
    }

    /// <summary>Every entry matching <paramref name="name"/>, most specific first (for explanations, not the hot path).</summary>
    public IReadOnlyList<T> Candidates(string name)
    {
        var result = new List<T>();
        if (_exact.TryGetValue(name, out var exact))
        {
            result.Add(exact);
        }

        var path = new List<Node> { _root };
        var node = _root;
        foreach (var c in name)
        {
            if (node.Child(c) is not { } child)
            {
                break;
            }

            path.Add(node = child);
        }

        for (var depth = path.Count - 1; depth >= 0; depth--)
        {
            foreach (var entry in path[depth].Entries)
            {
                if (entry.Glob.IsMatchAfterPrefix(name))
                {
                    result.Add(entry.Value);
                }
            }
        }

        return result;
    }

    private static T? Search<TState>(Node node, string name, int depth, TState state, Func<T, TState, bool> accept)
    {
        // Why recursion: deeper nodes have longer literal prefixes, so they must be tried first; the
        // call stack is the list of visited nodes without allocating one. Depth ≤ longest rule prefix.
        if (depth < name.Length && node.Child(name[depth]) is { } child)
        {
            var found = Search(child, name, depth + 1, state, accept);
            if (found is not null)
            {
                return found;
            }
        }

        foreach (var entry in node.Entries)
        {
            if (entry.Glob.IsMatchAfterPrefix(name) && accept(entry.Value, state))
            {
                return entry.Value;
            }
        }

        return null;
    }

    private sealed record Entry(Glob Glob, T Value, int Order);

    private sealed class Node(char[] keys, Node[] children, Entry[] entries)
    {
        public Entry[] Entries { get; } = entries;

        public Node? Child(char c)
        {
            // Binary search over sorted keys: no hashing, no allocation.
            int lo = 0, hi = keys.Length - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >> 1;
                var k = keys[mid];
                if (k == c)
                {
                    return children[mid];
                }

                if (k < c)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            return null;
        }
    }

    private sealed class NodeBuilder
    {
        public Dictionary<char, NodeBuilder> Children { get; } = [];

        public List<Entry> Entries { get; } = [];

        public Node Build()
        {
            var keys = Children.Keys.Order().ToArray();
            var children = keys.Select(k => Children[k].Build()).ToArray();
            var entries = Entries
                .OrderByDescending(e => e.Glob.LiteralCount)
                .ThenBy(e => e.Order)
                .ToArray();
            return new Node(keys, children, entries);
        }
    }
}
