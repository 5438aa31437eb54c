using System.Text.Json.Nodes;

namespace ApprovalBot.Bot.Tests.Teams;

/// <summary>The ids the Teams test doubles agree on (configure the bot with these).</summary>
public static class TeamsTestIds
{
    /// <summary>The bot's Microsoft App ID: ApprovalBot:Teams:AppId, the audience of tokens, the fake token endpoint's client_id.</summary>
    public const string AppId = "3f2b8c1e-6a4d-4e1f-9b7a-5c2d8e9f0a11";

    /// <summary>ApprovalBot:Teams:AppPassword, the fake token endpoint's client_secret.</summary>
    public const string AppPassword = "fake-app-password~not-a-real-secret";

    /// <summary>ApprovalBot:Teams:TenantId, and the tenant of the activities built here.</summary>
    public const string TenantId = "9d7c1f2e-4b3a-4c5d-8e6f-0a1b2c3d4e5f";

    /// <summary>ApprovalBot:Teams:ChannelId.</summary>
    public const string ChannelId = "19:approvals0a1b2c3d4e5f@thread.tacv2";

    /// <summary>The Entra object id of the approver (policy principal <c>teams:0f5c…</c>).</summary>
    public const string ApproverAadId = "0f5c6e7d-1a2b-4c3d-9e8f-7a6b5c4d3e21";

    /// <summary>Someone who is not in the approvers list.</summary>
    public const string OtherAadId = "5e4d3c2b-1a09-4f8e-8d7c-6b5a49382716";
}

/// <summary>Activities shaped like the ones Teams sends to /api/messages.</summary>
public static class TeamsActivities
{
    public const string BotId = "28:" + TeamsTestIds.AppId;

    /// <summary>An <c>Action.Execute</c> click: <c>invoke</c> named <c>adaptiveCard/action</c>.</summary>
    public static JsonObject Invoke(string serviceUrl, string verb, Guid approvalId, string? aadObjectId = TeamsTestIds.ApproverAadId,
        string? tenantId = TeamsTestIds.TenantId, string? comment = null, string name = "Ada Approver")
    {
        var data = new JsonObject { ["approvalId"] = approvalId.ToString() };
        if (comment is not null)
        {
            data["comment"] = comment;
        }

        var activity = Base("invoke", serviceUrl, aadObjectId, tenantId, name, $"{TeamsTestIds.ChannelId};messageid=1700000000001");
        activity["name"] = "adaptiveCard/action";
        activity["replyToId"] = "1700000000001";
        activity["value"] = new JsonObject
        {
            ["action"] = new JsonObject { ["type"] = "Action.Execute", ["verb"] = verb, ["data"] = data },
            ["trigger"] = "manual",
        };
        return activity;
    }

    /// <summary>An <c>Action.Submit</c> click from an old client: a message whose value is the data plus inputs.</summary>
    public static JsonObject Submit(string serviceUrl, string verb, Guid approvalId, string? comment = null,
        string? aadObjectId = TeamsTestIds.ApproverAadId, string? tenantId = TeamsTestIds.TenantId)
    {
        var activity = Base("message", serviceUrl, aadObjectId, tenantId, "Ada Approver", $"{TeamsTestIds.ChannelId};messageid=1700000000001");
        activity["replyToId"] = "1700000000001";
        var value = new JsonObject { ["action"] = verb, ["approvalId"] = approvalId.ToString() };
        if (comment is not null)
        {
            value["comment"] = comment;
        }

        activity["value"] = value;
        return activity;
    }

    /// <summary>A text message (in a channel: with the bot's <c>&lt;at&gt;</c> mention).</summary>
    public static JsonObject Message(string serviceUrl, string text, string? tenantId = TeamsTestIds.TenantId)
    {
        var activity = Base("message", serviceUrl, TeamsTestIds.ApproverAadId, tenantId, "Ada Approver", $"{TeamsTestIds.ChannelId};messageid=1700000000777");
        activity["text"] = text;
        activity["textFormat"] = "plain";
        activity["entities"] = new JsonArray(new JsonObject
        {
            ["type"] = "mention",
            ["text"] = "<at>ApprovalBot</at>",
            ["mentioned"] = new JsonObject { ["id"] = BotId, ["name"] = "ApprovalBot" },
        });
        return activity;
    }

    /// <summary>The bot was added to a team (conversationUpdate with the bot in membersAdded).</summary>
    public static JsonObject Installed(string serviceUrl, string teamId = "19:team0a1b2c3d@thread.tacv2", string? channelId = null, string? tenantId = TeamsTestIds.TenantId)
    {
        var activity = Base("conversationUpdate", serviceUrl, TeamsTestIds.ApproverAadId, tenantId, "Ada Approver", teamId);
        activity["membersAdded"] = new JsonArray(new JsonObject { ["id"] = BotId });
        var channelData = (JsonObject)activity["channelData"]!;
        channelData["eventType"] = "teamMemberAdded";
        channelData["team"] = new JsonObject { ["id"] = teamId, ["name"] = "SRE" };
        channelData["channel"] = new JsonObject { ["id"] = channelId ?? teamId };
        return activity;
    }

    private static JsonObject Base(string type, string serviceUrl, string? aadObjectId, string? tenantId, string name, string conversationId)
    {
        var from = new JsonObject { ["id"] = "29:1a2b3c4d5e6f-user", ["name"] = name };
        if (aadObjectId is not null)
        {
            from["aadObjectId"] = aadObjectId;
        }

        var conversation = new JsonObject { ["isGroup"] = true, ["conversationType"] = "channel", ["id"] = conversationId };
        var channelData = new JsonObject
        {
            ["channel"] = new JsonObject { ["id"] = TeamsTestIds.ChannelId },
            ["team"] = new JsonObject { ["id"] = "19:team0a1b2c3d@thread.tacv2" },
        };
        if (tenantId is not null)
        {
            conversation["tenantId"] = tenantId;
            channelData["tenant"] = new JsonObject { ["id"] = tenantId };
        }

        return new JsonObject
        {
            ["type"] = type,
            ["id"] = "f:" + Guid.NewGuid().ToString("N")[..16],
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("O"),
            ["localTimestamp"] = DateTimeOffset.UtcNow.ToString("O"),
            ["serviceUrl"] = serviceUrl,
            ["channelId"] = "msteams",
            ["from"] = from,
            ["conversation"] = conversation,
            ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "ApprovalBot" },
            ["channelData"] = channelData,
            ["locale"] = "en-US",
        };
    }
}
