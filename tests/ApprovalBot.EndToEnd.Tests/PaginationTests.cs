using ApprovalBot.EndToEnd.Tests.Infrastructure;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace ApprovalBot.EndToEnd.Tests;

public sealed class PaginationTests
{
    [Fact]
    public async Task Merged_tools_list_is_paginated_with_cursors()
    {
        await using var host = await GatewayHost.StartAsync(withEverything: false, settings: ["--ApprovalBot:Gateway:PageSize=4"]);
        await using var client = await host.ConnectAsync();

        var first = await client.ListToolsAsync(new ListToolsRequestParams());
        var second = await client.ListToolsAsync(new ListToolsRequestParams { Cursor = first.NextCursor });
        var all = await client.ListToolsAsync();

        Assert.Equal(4, first.Tools.Count);
        Assert.NotNull(first.NextCursor);
        Assert.Equal(2, second.Tools.Count);
        Assert.Null(second.NextCursor);
        Assert.Equal(6, all.Count);
        Assert.Equal(all.Select(t => t.Name).Order(), first.Tools.Concat(second.Tools).Select(t => t.Name).Order());
        await Assert.ThrowsAsync<McpProtocolException>(() => client.ListToolsAsync(new ListToolsRequestParams { Cursor = "bogus" }).AsTask());
    }
}
