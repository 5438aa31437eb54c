# ApprovalBot: one image for every role (gateway, bot, all); the role comes from configuration
# (--ApprovalBot:Role=gateway). See docs/deployment.md and docker-compose.yml.
#
#   docker build -t approvalbot:local .
#   docker run --rm -p 8080:8080 -v approvalbot-data:/data approvalbot:local          # role all, demo set-up
#   docker run --rm approvalbot:local hash-key "$AGENT_KEY"                            # any CLI verb
#
# The runtime image holds the .NET runtime and nothing else: stdio upstreams that need Node.js or
# Python (npx …, uvx …) need a derived image that adds them (docs/deployment.md shows one). The
# bundled sample upstream (Agentwork.Sample) is a .NET program and ships beside the executable.

# ---- build -------------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src

# Restore from the project files alone, so that a code change does not invalidate the package layer.
# Every project that src/ApprovalBot references (directly or not) must be listed here
# (tests/ApprovalBot.EndToEnd.Tests/DeploymentTests.cs checks it).
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ApprovalBot/ApprovalBot.csproj src/ApprovalBot/
COPY src/ApprovalBot.Core/ApprovalBot.Core.csproj src/ApprovalBot.Core/
COPY src/ApprovalBot.Gateway/ApprovalBot.Gateway.csproj src/ApprovalBot.Gateway/
COPY src/ApprovalBot.Bot/ApprovalBot.Bot.csproj src/ApprovalBot.Bot/
COPY src/ApprovalBot.Storage/ApprovalBot.Storage.csproj src/ApprovalBot.Storage/
COPY samples/Agentwork.Sample/Agentwork.Sample.csproj samples/Agentwork.Sample/
RUN dotnet restore src/ApprovalBot/ApprovalBot.csproj

COPY src/ src/
COPY samples/ samples/
COPY examples/ examples/
RUN dotnet publish src/ApprovalBot -c Release -o /app --no-restore -nologo

# ---- runtime -----------------------------------------------------------------------------------
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Owned by root and read-only for the service user: the process cannot change its own code.
COPY --from=build /app ./

# SQLite files (gateway.db, bot.db), the argument-digest key, the generated gateway instance id and
# console token. Created here so that a fresh named volume inherits the non-root owner.
RUN mkdir -p /data && chown "$APP_UID:$APP_UID" /data
VOLUME ["/data"]

# URLS (ASPNETCORE_URLS works as well; http://localhost:5080 applies only when neither is set). The
# base image's ASPNETCORE_HTTP_PORTS is cleared so Kestrel does not warn that URLS overrides it.
ENV URLS=http://+:8080 \
    ASPNETCORE_HTTP_PORTS="" \
    ApprovalBot__DataDirectory=/data
EXPOSE 8080

# The non-root user "app" (uid 1654) that the .NET images provide.
USER $APP_UID

# Liveness through /healthz. The aspnet image has no curl or wget; bash's /dev/tcp is enough for a
# plain HTTP GET and costs nothing (a `dotnet`-based probe would start a runtime every interval).
# /readyz (bus, policy, upstreams) is for load balancers: an upstream being down must not get the
# gateway restarted. If you change URLS to another port, override this check too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["dotnet", "/app/approvalbot.dll"]
