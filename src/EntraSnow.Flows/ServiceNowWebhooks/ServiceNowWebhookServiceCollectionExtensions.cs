using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.ServiceNowWebhooks;

public static class ServiceNowWebhookServiceCollectionExtensions
{
    /// <summary>
    /// The signed-webhook intake (verifier and queueing) and its <c>ServiceNowWebhook</c> settings, validated at
    /// start-up. The host supplies <see cref="IWebhookReplayStore"/> and the queue.
    /// </summary>
    public static IServiceCollection AddServiceNowWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ServiceNowWebhookOptions>()
            .Bind(configuration.GetSection(ServiceNowWebhookOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WebhookVerifier>();
        services.TryAddSingleton<ServiceNowWebhookIntake>();
        return services;
    }
}
