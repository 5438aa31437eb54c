using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Tests.Slack;

/// <summary>
/// Block Kit's published limits (docs.slack.dev/reference/block-kit), as Slack checks them before it
/// accepts a message or a modal: block counts, block and element types, text lengths, ids, buttons,
/// confirm dialogs, inputs and modal fields. Returns every problem with its path; an empty list
/// means Slack would accept the payload. No test framework: <see cref="FakeSlackApi"/> answers
/// <c>invalid_blocks</c> with these, exactly as Slack refuses such a payload.
/// </summary>
public static class BlockKitLimits
{
    private static readonly HashSet<string> BlockTypes = ["header", "section", "context", "actions", "divider", "input", "image", "rich_text"];

    /// <summary>A message (chat.postMessage, chat.update, chat.postEphemeral, a response_url or ack body).</summary>
    public static IReadOnlyList<string> CheckMessage(JsonNode? message)
    {
        var problems = new List<string>();
        if (message?["text"] is JsonValue text && text.GetValue<string>().Length > 40_000)
        {
            problems.Add($"text: {text.GetValue<string>().Length} characters, more than 40000");
        }

        if (message?["blocks"] is { } blocks)
        {
            CheckBlocks(blocks, 50, "blocks", problems);
        }

        return problems;
    }

    /// <summary>A modal (views.open, views.update, views.push).</summary>
    public static IReadOnlyList<string> CheckView(JsonNode? view)
    {
        var problems = new List<string>();
        if (view is not JsonObject modal)
        {
            problems.Add("view: missing");
            return problems;
        }

        if (Str(modal["type"]) != "modal")
        {
            problems.Add($"view.type: '{Str(modal["type"])}' is not modal");
        }

        CheckText(modal["title"], "view.title", 24, plainOnly: true, problems);
        if (modal["submit"] is { } submit)
        {
            CheckText(submit, "view.submit", 24, plainOnly: true, problems);
        }

        if (modal["close"] is { } close)
        {
            CheckText(close, "view.close", 24, plainOnly: true, problems);
        }

        CheckLength(modal["private_metadata"], "view.private_metadata", 0, 3000, problems);
        CheckLength(modal["callback_id"], "view.callback_id", 1, 255, problems);
        CheckLength(modal["external_id"], "view.external_id", 1, 255, problems);
        CheckBlocks(modal["blocks"], 100, "view.blocks", problems);
        return problems;
    }

    private static void CheckBlocks(JsonNode? node, int max, string path, List<string> problems)
    {
        if (node is not JsonArray blocks)
        {
            problems.Add($"{path}: not an array");
            return;
        }

        if (blocks.Count > max)
        {
            problems.Add($"{path}: {blocks.Count} blocks, more than {max}");
        }

        var blockIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < blocks.Count; i++)
        {
            var at = $"{path}[{i}]";
            if (blocks[i] is not JsonObject block)
            {
                problems.Add($"{at}: not an object");
                continue;
            }

            var type = Str(block["type"]);
            if (type is null || !BlockTypes.Contains(type))
            {
                problems.Add($"{at}.type: '{type}' is not a block type");
                continue;
            }

            if (block["block_id"] is { } blockId)
            {
                CheckLength(blockId, $"{at}.block_id", 1, 255, problems);
                if (Str(blockId) is { } id && !blockIds.Add(id))
                {
                    problems.Add($"{at}.block_id: '{id}' is used twice");
                }
            }

            switch (type)
            {
                case "header":
                    CheckText(block["text"], $"{at}.text", 150, plainOnly: true, problems);
                    break;
                case "section":
                    if (block["text"] is null && block["fields"] is null)
                    {
                        problems.Add($"{at}: a section needs text or fields");
                    }

                    if (block["text"] is { } sectionText)
                    {
                        CheckText(sectionText, $"{at}.text", 3000, plainOnly: false, problems);
                    }

                    if (block["fields"] is { } fields)
                    {
                        CheckArray(fields, $"{at}.fields", 10, problems, (f, p) => CheckText(f, p, 2000, plainOnly: false, problems));
                    }

                    if (block["accessory"] is JsonObject accessory && Str(accessory["type"]) == "button")
                    {
                        CheckButton(accessory, $"{at}.accessory", problems);
                    }

                    break;
                case "context":
                    CheckArray(block["elements"], $"{at}.elements", 10, problems, (e, p) =>
                    {
                        if (Str(e?["type"]) is "plain_text" or "mrkdwn")
                        {
                            CheckText(e, p, 3000, plainOnly: false, problems);
                        }
                    });
                    break;
                case "actions":
                    var actionIds = new HashSet<string>(StringComparer.Ordinal);
                    CheckArray(block["elements"], $"{at}.elements", 25, problems, (e, p) =>
                    {
                        if (e is JsonObject element && Str(element["type"]) == "button")
                        {
                            CheckButton(element, p, problems);
                        }

                        if (Str(e?["action_id"]) is { } actionId && !actionIds.Add(actionId))
                        {
                            problems.Add($"{p}.action_id: '{actionId}' is used twice in the block");
                        }
                    });
                    break;
                case "input":
                    CheckText(block["label"], $"{at}.label", 2000, plainOnly: true, problems);
                    if (block["hint"] is { } hint)
                    {
                        CheckText(hint, $"{at}.hint", 2000, plainOnly: true, problems);
                    }

                    if (block["element"] is JsonObject input)
                    {
                        CheckLength(input["action_id"], $"{at}.element.action_id", 1, 255, problems);
                        if (input["placeholder"] is { } placeholder)
                        {
                            CheckText(placeholder, $"{at}.element.placeholder", 150, plainOnly: true, problems);
                        }

                        foreach (var bound in new[] { "min_length", "max_length" })
                        {
                            if (input[bound] is JsonValue value && (value.GetValue<int>() < 0 || value.GetValue<int>() > 3000))
                            {
                                problems.Add($"{at}.element.{bound}: {value} is outside 0..3000");
                            }
                        }
                    }
                    else
                    {
                        problems.Add($"{at}.element: missing");
                    }

                    break;
            }
        }
    }

    private static void CheckButton(JsonObject button, string at, List<string> problems)
    {
        CheckText(button["text"], $"{at}.text", 75, plainOnly: true, problems);
        CheckLength(button["action_id"], $"{at}.action_id", 1, 255, problems);
        CheckLength(button["value"], $"{at}.value", 1, 2000, problems);
        CheckLength(button["url"], $"{at}.url", 1, 3000, problems);
        if (button["style"] is { } style && Str(style) is not ("primary" or "danger"))
        {
            problems.Add($"{at}.style: '{Str(style)}' is not primary or danger");
        }

        if (button["confirm"] is JsonObject confirm)
        {
            CheckText(confirm["title"], $"{at}.confirm.title", 100, plainOnly: true, problems);
            CheckText(confirm["text"], $"{at}.confirm.text", 300, plainOnly: false, problems);
            CheckText(confirm["confirm"], $"{at}.confirm.confirm", 30, plainOnly: true, problems);
            CheckText(confirm["deny"], $"{at}.confirm.deny", 30, plainOnly: true, problems);
        }
    }

    private static void CheckText(JsonNode? node, string at, int max, bool plainOnly, List<string> problems)
    {
        if (node is not JsonObject text)
        {
            problems.Add($"{at}: missing text object");
            return;
        }

        var type = Str(text["type"]);
        if (type is not ("plain_text" or "mrkdwn") || (plainOnly && type != "plain_text"))
        {
            problems.Add($"{at}.type: '{type}' is not {(plainOnly ? "plain_text" : "plain_text or mrkdwn")}");
        }

        CheckLength(text["text"], $"{at}.text", 1, max, problems);
    }

    private static void CheckLength(JsonNode? node, string at, int min, int max, List<string> problems)
    {
        if (node is null)
        {
            return;
        }

        var length = Str(node)?.Length ?? -1;
        if (length < min || length > max)
        {
            problems.Add($"{at}: {length} characters, not within {min}..{max}");
        }
    }

    private static void CheckArray(JsonNode? node, string at, int max, List<string> problems, Action<JsonNode?, string> each)
    {
        if (node is not JsonArray array || array.Count == 0)
        {
            problems.Add($"{at}: missing or empty");
            return;
        }

        if (array.Count > max)
        {
            problems.Add($"{at}: {array.Count} elements, more than {max}");
        }

        for (var i = 0; i < array.Count; i++)
        {
            each(array[i], $"{at}[{i}]");
        }
    }

    private static string? Str(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;
}
