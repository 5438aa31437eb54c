using System.Net;
using ApprovalBot.Bot.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace ApprovalBot.Bot.Slack;

/// <summary>
/// Wires the Slack channel into the bot. Needs, from the rest of the bot: <see cref="Approvals.IApprovalDecisions"/>,
/// <see cref="Approvals.IApprovalReadModel"/>, <see cref="ICardReferences"/> and <see cref="Status.IStatusReport"/>
/// (singleton or scoped; they are resolved in a scope per use).
/// </summary>
public static class SlackRegistration
{
    /// <summary>
    /// Binds <c>ApprovalBot:Slack</c> (validated at start-up) and, only when <c>Enabled</c>, registers the
    /// Web API client, the <see cref="IApprovalChannel"/>, the inbound handlers, the background work queue
    /// and — when <c>AppToken</c> is set — the Socket Mode connection.
    /// </summary>
    public static IServiceCollection AddSlackChannel(this IServiceCollection services, IConfiguration slackSection)
    {
        ArgumentNullException.ThrowIfNull(slackSection);
        services.AddOptions<SlackOptions>().Bind(slackSection).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SlackOptions>, SlackOptionsValidator>());

        var options = slackSection.Get<SlackOptions>() ?? new SlackOptions();
        if (!options.Enabled)
        {
            return services;
        }

        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(SlackApiClient.HttpClientName, (sp, client) =>
        {
            client.BaseAddress = sp.GetRequiredService<IOptions<SlackOptions>>().Value.ApiBaseUri();
            client.Timeout = Timeout.InfiniteTimeSpan; // per attempt, in the pipeline: a rate-limit wait is not a timeout
        }).AddResilienceHandler("slack-web-api", ConfigureApiResilience);
        services.TryAddSingleton<SlackApiClient>();
        services.TryAddSingleton<SlackDeliveryDeduplicator>();
        services.TryAddSingleton<SlackWorkQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<SlackWorkQueue>());
        services.TryAddSingleton<SlackInteractionHandler>();
        services.TryAddSingleton<SlackCommandHandler>();
        services.TryAddSingleton<SlackEventHandler>();
        services.TryAddSingleton<SlackApprovalChannel>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IApprovalChannel, SlackApprovalChannel>(sp => sp.GetRequiredService<SlackApprovalChannel>()));

        if (options.SocketMode)
        {
            services.AddHostedService<SlackSocketModeService>();
        }

        return services;
    }

    /// <summary>
    /// Maps <c>POST /slack/interactions</c>, <c>/slack/commands</c> and <c>/slack/events</c>. Always mapped;
    /// they answer 404 while Slack is disabled. Anonymous by design: every request is signature-checked.
    /// </summary>
    public static IEndpointRouteBuilder MapSlack(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/slack");
        group.MapPost("/interactions", context => SlackEndpoints.HandleAsync(context, SlackEndpoints.Kind.Interactions));
        group.MapPost("/commands", context => SlackEndpoints.HandleAsync(context, SlackEndpoints.Kind.Commands));
        group.MapPost("/events", context => SlackEndpoints.HandleAsync(context, SlackEndpoints.Kind.Events));
        group.AllowAnonymous().DisableAntiforgery();
        return endpoints;
    }

    /// <summary>
    /// The <see cref="HttpRetry"/> rules for the Web API: only a 429 is retried, after its
    /// Retry-After (capped; one second when it names none), up to
    /// <see cref="SlackApiClient.MaxRateLimitRetries"/> times. Slack answers its other failures with
    /// HTTP 200 and <c>ok:false</c>; <see cref="SlackApprovalChannel"/> retries the transient ones.
    /// </summary>
    private static void ConfigureApiResilience(ResiliencePipelineBuilder<HttpResponseMessage> builder, ResilienceHandlerContext context)
    {
        var logger = context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SlackApiClient).FullName!);
        var time = context.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
        builder.AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = SlackApiClient.MaxRateLimitRetries,
            ShouldRetryAfterHeader = false, // DelayGenerator below reads it, with a cap
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.StatusCode == HttpStatusCode.TooManyRequests),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(
                HttpRetry.RetryAfter(args.Outcome.Result, time.GetUtcNow(), SlackApiClient.MaxRetryAfter) ?? SlackApiClient.DefaultRetryAfter),
            OnRetry = args =>
            {
                var method = args.Context.GetRequestMessage()?.RequestUri?.Segments[^1] ?? "?";
                SlackLog.RateLimited(logger, method, args.RetryDelay, args.AttemptNumber + 1);
                return default;
            },
        });
        builder.AddTimeout(SlackApiClient.AttemptTimeout);
    }

    private sealed class SlackOptionsValidator : IValidateOptions<SlackOptions>
    {
        public ValidateOptionsResult Validate(string? name, SlackOptions options)
        {
            var problems = options.Validate().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
