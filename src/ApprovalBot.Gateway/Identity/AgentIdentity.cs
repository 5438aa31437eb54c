using ApprovalBot.Gateway.Configuration;
using ModelContextProtocol.Server;

namespace ApprovalBot.Gateway.Identity;

/// <summary>Who is calling: the authenticated agent's name, the stdio front's configured identity, or anonymous.</summary>
public sealed class AgentIdentity(GatewayOptions options)
{
    public const string Anonymous = "anonymous";

    public string Of(MessageContext context) =>
        context.User?.Identity is { IsAuthenticated: true, Name: { } name } ? name
        : context.User is null ? options.StdioAgent
        : Anonymous;
}
