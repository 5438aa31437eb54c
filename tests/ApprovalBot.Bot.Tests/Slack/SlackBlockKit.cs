using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>
/// Block Kit's documented limits for the blocks ApprovalBot sends (docs.slack.dev, see
/// ../shared/protocols/slack.md): block count, block types, text and id lengths, button and
/// confirm-dialog limits. Slack answers <c>invalid_blocks</c> for any of these.
/// </summary>
public static class SlackBlockKit
{
    private static readonly HashSet<string> BlockTypes = ["header", "section", "context", "actions", "divider", "input"];

    public static void AssertValid(JsonArray blocks)
    {
        Assert.Empty(BlockKitLimits.CheckMessage(new JsonObject { ["blocks"] = blocks.DeepClone() }));
        Assert.InRange(blocks.Count, 1, 50);
        var blockIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var block in blocks.Select(b => b!.AsObject()))
        {
            var type = block["type"]!.GetValue<string>();
            Assert.Contains(type, BlockTypes);
            if (block["block_id"] is { } blockId)
            {
                Assert.InRange(blockId.GetValue<string>().Length, 1, 255);
                Assert.True(blockIds.Add(blockId.GetValue<string>()), $"duplicate block_id {blockId}");
            }

            switch (type)
            {
                case "header":
                    AssertText(block["text"], "plain_text", 150);
                    break;
                case "section":
                    Assert.True(block["text"] is not null || block["fields"] is not null, "a section needs text or fields");
                    if (block["text"] is { } text)
                    {
                        AssertText(text, null, 3000);
                    }

                    if (block["fields"] is JsonArray fields)
                    {
                        Assert.InRange(fields.Count, 1, 10);
                        Assert.All(fields, f => AssertText(f, null, 2000));
                    }

                    break;
                case "context":
                    var elements = block["elements"]!.AsArray();
                    Assert.InRange(elements.Count, 1, 10);
                    Assert.All(elements, e => AssertText(e, null, 3000));
                    break;
                case "actions":
                    var buttons = block["elements"]!.AsArray();
                    Assert.InRange(buttons.Count, 1, 25);
                    var actionIds = new HashSet<string>(StringComparer.Ordinal);
                    foreach (var button in buttons.Select(b => b!.AsObject()))
                    {
                        Assert.Equal("button", button["type"]!.GetValue<string>());
                        var actionId = button["action_id"]!.GetValue<string>();
                        Assert.InRange(actionId.Length, 1, 255);
                        Assert.True(actionIds.Add(actionId), $"duplicate action_id {actionId}");
                        AssertText(button["text"], "plain_text", 75);
                        Assert.InRange(button["value"]!.GetValue<string>().Length, 1, 2000);
                        if (button["style"] is { } style)
                        {
                            Assert.Contains(style.GetValue<string>(), new[] { "primary", "danger" });
                        }

                        if (button["confirm"] is JsonObject confirm)
                        {
                            AssertText(confirm["title"], "plain_text", 100);
                            AssertText(confirm["text"], null, 300);
                            AssertText(confirm["confirm"], "plain_text", 30);
                            AssertText(confirm["deny"], "plain_text", 30);
                        }
                    }

                    break;
            }
        }
    }

    private static void AssertText(JsonNode? node, string? type, int max)
    {
        Assert.NotNull(node);
        var kind = node["type"]!.GetValue<string>();
        Assert.Contains(kind, new[] { "plain_text", "mrkdwn" });
        if (type is not null)
        {
            Assert.Equal(type, kind);
        }

        var text = node["text"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(text), "empty text");
        Assert.True(text.Length <= max, $"{kind} of {text.Length} characters (max {max})");
    }
}
