using System.Net;
using ApprovalBot.Bot.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ApprovalBot.Bot.Teams;

/// <summary>Wires the Teams channel into the bot role.</summary>
public static class TeamsRegistration
{
    public const string MessagesPath = "/api/messages";
    internal const int MaxRetryAttempts = 4;
    internal static readonly TimeSpan RetryBaseDelay = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(30);
    internal static readonly TimeSpan TotalTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Binds <see cref="TeamsOptions"/> from <paramref name="teamsSection"/> (<c>ApprovalBot:Teams</c>)
    /// and, only when it is enabled, registers the Teams approval channel, the token validation and
    /// the Connector client. Invalid options stop start-up (ValidateOnStart) with one line per problem.
    /// </summary>
    public static IServiceCollection AddTeamsChannel(this IServiceCollection services, IConfiguration teamsSection)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(teamsSection);

        var optionsBuilder = services.AddOptions<TeamsOptions>().Bind(teamsSection);
        var options = teamsSection.Get<TeamsOptions>() ?? new TeamsOptions();
        if (!options.Enabled)
        {
            return services;
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TeamsOptions>, TeamsOptionsValidation>());
        optionsBuilder.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        services.AddHttpClient(SigningKeySet.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(15));

        services.TryAddTransient<LoopbackTokenEndpointHandler>();
        services.AddHttpClient(MsalConnectorTokenSource.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30))
            .AddHttpMessageHandler<LoopbackTokenEndpointHandler>();

        services.TryAddTransient<ConnectorAuthorizationHandler>();
        var connector = services.AddHttpClient(TeamsConnectorClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        connector.AddResilienceHandler("teams-connector", ConfigureConnectorResilience);
        connector.AddHttpMessageHandler<ConnectorAuthorizationHandler>(); // inside the retries: every attempt gets a (cached) token

        services.TryAddSingleton<IConnectorTokenSource, MsalConnectorTokenSource>();
        services.TryAddSingleton<TeamsSigningKeys>();
        services.TryAddSingleton<TeamsTokenValidator>();
        services.TryAddSingleton<TeamsConnectorClient>();
        services.TryAddSingleton<TeamsConversationStore>();
        services.TryAddSingleton<TeamsMessagesEndpoint>();
        services.TryAddScoped<TeamsActivityHandler>();
        services.TryAddScoped<TeamsInteractionHandler>();
        services.TryAddScoped<TeamsCommandHandler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IApprovalChannel, TeamsApprovalChannel>());
        return services;
    }

    /// <summary>Maps <c>POST /api/messages</c>; it answers 404 while Teams is disabled.</summary>
    public static IEndpointRouteBuilder MapTeams(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost(MessagesPath, (Func<HttpContext, Task<IResult>>)(context =>
            context.RequestServices.GetService<TeamsMessagesEndpoint>() is { } endpoint
            && context.RequestServices.GetService<IOptions<TeamsOptions>>()?.Value.Enabled == true
                ? endpoint.HandleAsync(context)
                : Task.FromResult(Results.NotFound())))
            .WithName("TeamsMessages")
            .DisableAntiforgery();
        return endpoints;
    }

    /// <summary>
    /// The <see cref="HttpRetry"/> rules for the Connector: 429 and 412 mean the Connector did
    /// nothing, so any request is retried; 502 and 504 (and transport failures) leave a POST's fate unknown, so only idempotent PUTs are retried then —
    /// never a blind second post. Exponential back-off with jitter; a Retry-After is honoured.
    /// </summary>
    private static void ConfigureConnectorResilience(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context)
    {
        var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TeamsConnectorClient).FullName!);
        var time = context.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
        builder.AddTimeout(TotalTimeout); // all attempts and waits together
        builder.AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = MaxRetryAttempts,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = RetryBaseDelay,
            MaxDelay = MaxRetryDelay,
            ShouldRetryAfterHeader = false, // DelayGenerator below reads it, with a cap
            ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context.GetRequestMessage())),
            DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time.GetUtcNow())),
            OnRetry = args =>
            {
                var request = args.Context.GetRequestMessage();
                var outcome = args.Outcome.Result is { } response ? $"{(int)response.StatusCode}" : args.Outcome.Exception?.GetType().Name ?? "an error";
                TeamsLog.ConnectorRetry(logger, outcome, request?.Method.Method ?? "?", request?.RequestUri?.AbsolutePath ?? "?", args.AttemptNumber + 1, args.RetryDelay);
                return default;
            },
        });
        builder.AddTimeout(AttemptTimeout);
    }

    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request)
    {
        var idempotent = request?.Method == HttpMethod.Put || request?.Method == HttpMethod.Get;
        if (outcome.Result is { } response)
        {
            return response.StatusCode switch
            {
                HttpStatusCode.TooManyRequests or HttpStatusCode.PreconditionFailed => true,
                HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => idempotent,
                _ => false,
            };
        }

        return idempotent && outcome.Exception is HttpRequestException or TimeoutRejectedException;
    }

    /// <summary>The Retry-After of a response (capped), or null to use the exponential back-off.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, DateTimeOffset now) =>
        HttpRetry.RetryAfter(response, now, MaxRetryDelay);

    private sealed class TeamsOptionsValidation : IValidateOptions<TeamsOptions>
    {
        public ValidateOptionsResult Validate(string? name, TeamsOptions options)
        {
            var problems = options.Validate().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
