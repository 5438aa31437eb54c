using ApprovalBot.Gateway.Upstreams;
using ApprovalBot.Tests.Upstreams;
using ModelContextProtocol;

namespace ApprovalBot.Gateway.Tests.Upstreams;

/// <summary>
/// The merged catalogue over real (in-process) upstreams: prefixes, where each tool really lives,
/// name collisions at start-up and at run time, prompts and resources, and list_changed.
/// </summary>
public sealed class ToolCatalogTests
{
    private static IReadOnlyList<string> Names(ToolCatalog catalog) => catalog.Tools.Select(t => t.ExposedName).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Tools_of_every_upstream_are_merged_under_their_prefixes_and_point_home()
    {
        await using var rig = await UpstreamRig.StartAsync(
        [
            ("alpha", await InProcessUpstream.StartAsync("alpha-server", "list", "cancel"), null),
            ("beta", await InProcessUpstream.StartAsync("beta-server", "list", "ping"), null),
        ]);
        await rig.WaitForFirstAttemptsAsync();

        Assert.True(rig.Registry.CatalogComplete);
        Assert.Equal(["alpha_cancel", "alpha_list", "beta_list", "beta_ping"], Names(rig.Catalog));
        var betaList = rig.Catalog.ToolsByName["beta_list"];
        Assert.Equal(("beta", "list", "beta_list"), (betaList.Upstream.Name, betaList.UpstreamName, betaList.Exposed.Name));
        Assert.Equal("The list tool.", betaList.Exposed.Description);
        Assert.Same(rig.Connection("beta"), betaList.Upstream);
        Assert.Same(rig.Connection("alpha"), rig.Catalog.ToolsByName["alpha_list"].Upstream);
        // The exposed copy is renamed; the upstream's own list keeps its names (calls go out under them).
        Assert.Equal(["cancel", "list"], rig.Connection("alpha").Lists.Tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Empty(rig.Catalog.Collisions);
    }

    [Fact]
    public async Task An_empty_prefix_exposes_names_as_they_are_and_a_custom_one_replaces_the_default()
    {
        await using var rig = await UpstreamRig.StartAsync(
        [
            ("alpha", await InProcessUpstream.StartAsync("alpha-server", "list"), ""),
            ("beta", await InProcessUpstream.StartAsync("beta-server", "list"), "b."),
        ]);
        await rig.WaitForFirstAttemptsAsync();

        Assert.Equal(["b.list", "list"], Names(rig.Catalog));
        Assert.Equal("list", rig.Catalog.ToolsByName["b.list"].UpstreamName);
        Assert.Equal("alpha", rig.Catalog.ToolsByName["list"].Upstream.Name);
    }

    [Fact]
    public async Task Two_upstreams_claiming_one_name_at_start_up_refuse_the_catalogue_naming_both()
    {
        // alpha exposes "x_a" with no prefix; beta's "a" under prefix "x_" is the same name.
        await using var rig = await UpstreamRig.StartAsync(
        [
            ("beta", await InProcessUpstream.StartAsync("beta-server", "a", "b"), "x_"),
            ("alpha", await InProcessUpstream.StartAsync("alpha-server", "x_a"), ""),
        ]);
        await rig.WaitForFirstAttemptsAsync();

        // Which one the running catalogue kept depends on which answered first; start-up refuses either way.
        var collision = Assert.Single(rig.Catalog.Collisions);
        Assert.Equal(("tool", "x_a"), (collision.Kind, collision.Name));
        Assert.Equal(["alpha", "beta"], new[] { collision.Kept, collision.Refused }.Order(StringComparer.Ordinal));
        Assert.Equal(collision.Kept, rig.Catalog.ToolsByName["x_a"].Upstream.Name);
        // With nothing before, the first upstream by name keeps a name.
        var fresh = ToolCatalog.Build(rig.Registry.Connections);
        Assert.Equal(new CatalogCollision("tool", "x_a", "alpha", "beta"), Assert.Single(fresh.Collisions));
        Assert.Equal("alpha", fresh.ToolsByName["x_a"].Upstream.Name);
        Assert.Contains("x_b", Names(rig.Catalog));
        Assert.False(rig.Registry.CatalogComplete);
        var refused = await Assert.ThrowsAsync<McpException>(() => rig.Registry.WaitForCatalogAsync(CancellationToken.None).AsTask());
        // Start-up names the two in the same order whichever connected first.
        const string reason = "Upstreams 'alpha' and 'beta' both expose tool 'x_a'; give one of them another Prefix (ApprovalBot:Gateway:Upstreams:beta:Prefix).";
        Assert.Equal("The gateway is stopping: " + reason, refused.Message);
        Assert.Equal(reason, rig.StartupFailure.Reason);
    }

    [Fact]
    public async Task A_name_that_collides_at_run_time_stays_with_the_upstream_that_had_it_whichever_sorts_first()
    {
        var alpha = await InProcessUpstream.StartAsync("alpha-server", "x_a");
        var beta = await InProcessUpstream.StartAsync("beta-server", "b");
        var gamma = await InProcessUpstream.StartAsync("gamma-server", "c");
        await using var rig = await UpstreamRig.StartAsync([("alpha", alpha, ""), ("beta", beta, "x_"), ("gamma", gamma, "")]);
        await rig.WaitForFirstAttemptsAsync();
        Assert.True(rig.Registry.CatalogComplete);

        // beta (later by name) now also lists "a", i.e. "x_a": alpha had it, alpha keeps it.
        beta.Tools.Add(InProcessUpstream.Tool("a"));
        var catalog = await rig.WaitForCatalogAsync(c => c.Collisions.Count == 1, "the run-time collision");
        Assert.Equal(new CatalogCollision("tool", "x_a", "alpha", "beta"), catalog.Collisions[0]);
        Assert.Equal("alpha", catalog.ToolsByName["x_a"].Upstream.Name);
        Assert.True(rig.Registry.CatalogComplete);

        // gamma has "c"; alpha (first by name) adds "c" too: gamma had it, gamma keeps it.
        alpha.Tools.Add(InProcessUpstream.Tool("c"));
        catalog = await rig.WaitForCatalogAsync(c => c.Collisions.Count == 2, "the second collision");
        Assert.Contains(new CatalogCollision("tool", "c", "gamma", "alpha"), catalog.Collisions);
        Assert.Equal("gamma", catalog.ToolsByName["c"].Upstream.Name);

        // beta drops its "a": the clash is gone and nothing else moved.
        beta.Tools.Remove(beta.Tools.Single(t => t.ProtocolTool.Name == "a"));
        catalog = await rig.WaitForCatalogAsync(c => c.Collisions.Count == 1, "the first collision to go");
        Assert.Equal("alpha", catalog.ToolsByName["x_a"].Upstream.Name);
        Assert.Equal(["c", "x_a", "x_b"], Names(catalog));
        Assert.Equal("gamma", catalog.ToolsByName["c"].Upstream.Name);
    }

    [Fact]
    public async Task Prompts_are_merged_and_collide_apart_from_tools()
    {
        var alpha = await InProcessUpstream.StartAsync("alpha-server", "summary");
        alpha.Prompts.Add(InProcessUpstream.Prompt("summary"));
        var beta = await InProcessUpstream.StartAsync("beta-server");
        beta.Prompts.Add(InProcessUpstream.Prompt("alpha_summary"));
        await using var rig = await UpstreamRig.StartAsync([("alpha", alpha, null), ("beta", beta, "")]);
        await rig.WaitForFirstAttemptsAsync();

        // A tool and a prompt of one name do not clash; two prompts of one name do.
        Assert.Equal("alpha", rig.Catalog.ToolsByName["alpha_summary"].Upstream.Name);
        var collision = Assert.Single(rig.Catalog.Collisions);
        Assert.Equal(("prompt", "alpha_summary"), (collision.Kind, collision.Name));
        Assert.Equal(["alpha", "beta"], new[] { collision.Kept, collision.Refused }.Order(StringComparer.Ordinal));
        Assert.Equal(collision.Kept, Assert.Single(rig.Catalog.Prompts).Upstream.Name);
        var fresh = ToolCatalog.Build(rig.Registry.Connections).PromptsByName["alpha_summary"];
        Assert.Equal(("alpha", "summary"), (fresh.Upstream.Name, fresh.UpstreamName));
    }

    [Fact]
    public async Task A_resource_belongs_to_the_upstream_that_lists_it_else_to_the_longest_matching_template()
    {
        var alpha = await InProcessUpstream.StartAsync("alpha-server");
        alpha.Resources.Add(InProcessUpstream.Resource("file:///{path}", "files"));
        var beta = await InProcessUpstream.StartAsync("beta-server");
        beta.Resources.Add(InProcessUpstream.Resource("file:///logs/{name}", "logs"));
        beta.Resources.Add(InProcessUpstream.Resource("file:///etc/motd", "motd"));
        await using var rig = await UpstreamRig.StartAsync([("alpha", alpha, null), ("beta", beta, null)]);
        await rig.WaitForFirstAttemptsAsync();

        Assert.Equal("beta", rig.Catalog.FindResourceOwner("file:///logs/today.txt")?.Name);
        Assert.Equal("alpha", rig.Catalog.FindResourceOwner("file:///etc/hosts")?.Name);
        Assert.Equal("beta", rig.Catalog.FindResourceOwner("file:///etc/motd")?.Name);
        Assert.Null(rig.Catalog.FindResourceOwner("https://example.com/x"));
        Assert.Equal("file:///etc/motd", Assert.Single(rig.Catalog.Resources).Resource.Uri);
        Assert.Equal(2, rig.Catalog.Templates.Count);
    }

    [Fact]
    public async Task A_tool_added_or_removed_upstream_reaches_the_catalogue()
    {
        var alpha = await InProcessUpstream.StartAsync("alpha-server", "list");
        await using var rig = await UpstreamRig.StartAsync([("alpha", alpha, null)]);
        await rig.WaitForFirstAttemptsAsync();
        Assert.Equal(["alpha_list"], Names(rig.Catalog));

        alpha.Tools.Add(InProcessUpstream.Tool("purge", destructive: true));
        var catalog = await rig.WaitForCatalogAsync(c => c.ToolsByName.ContainsKey("alpha_purge"), "the added tool");
        Assert.True(catalog.ToolsByName["alpha_purge"].Exposed.Annotations?.DestructiveHint);

        alpha.Tools.Remove(alpha.Tools.Single(t => t.ProtocolTool.Name == "list"));
        catalog = await rig.WaitForCatalogAsync(c => !c.ToolsByName.ContainsKey("alpha_list"), "the removed tool");
        Assert.Equal(["alpha_purge"], Names(catalog));
    }

    [Fact]
    public async Task A_tool_of_an_upstream_still_connecting_is_found_once_it_has_answered()
    {
        var slow = await InProcessUpstream.StartAsync("slow-server", "late");
        slow.Hold();
        await using var rig = await UpstreamRig.StartAsync([("slow", slow, null), ("fast", await InProcessUpstream.StartAsync("fast-server", "early"), null)]);
        await Eventually.TrueAsync(() => slow.Waiting > 0, "the slow upstream's handshake to arrive");

        await Eventually.TrueAsync(() => rig.Catalog.ToolsByName.ContainsKey("fast_early"), "the fast upstream's tools");

        // A known name answers at once; a name not known yet waits for the start-up catalogue.
        Assert.Equal("fast", (await rig.Registry.FindToolAsync("fast_early", CancellationToken.None))?.Upstream.Name);
        var late = rig.Registry.FindToolAsync("slow_late", CancellationToken.None).AsTask();
        var unknown = rig.Registry.FindToolAsync("nobody_has_this", CancellationToken.None).AsTask();
        Assert.False(late.IsCompleted);
        Assert.False(unknown.IsCompleted);
        Assert.Equal(UpstreamState.Connecting, rig.Connection("slow").State);

        slow.Release();

        Assert.Equal("slow", (await late.WaitAsync(TimeSpan.FromSeconds(30)))?.Upstream.Name);
        Assert.Null(await unknown.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(rig.Registry.CatalogComplete);
    }

    [Fact]
    public async Task A_call_that_gets_no_answer_times_out_on_the_clock_with_a_clear_error()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var hung = await InProcessUpstream.StartAsync("hung-server", "wait");
        await using var rig = await UpstreamRig.StartAsync([("hung", hung, null)], time, callTimeout: TimeSpan.FromSeconds(20));
        await rig.WaitForFirstAttemptsAsync();
        var connection = rig.Connection("hung");
        hung.Hold();

        var call = connection.ForwardAsync("tools/call", (client, ct) => client.CallToolAsync("wait", cancellationToken: ct), CancellationToken.None);
        await Eventually.TrueAsync(() => hung.Waiting > 0, "the call to reach the upstream");
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        var timedOut = await Assert.ThrowsAsync<UpstreamTimeoutException>(() => call.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("hung", timedOut.Upstream);
        Assert.Equal(TimeSpan.FromSeconds(20), timedOut.Timeout);
        Assert.Equal(UpstreamState.Connected, connection.State);
    }
}
