using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.Subscriptions;

public static class SubscriptionServiceCollectionExtensions
{
    /// <summary>
    /// The subscription manager: the "subscription-upkeep" <see cref="IScheduledJob"/> and the <see cref="IMessageHandler"/>
    /// for the subscription-lifecycle queue. Needs <c>IGraphSubscriptions</c> (AddGraphConnector), <c>IMessageQueue</c> and
    /// <c>ICheckpointStore</c> from the host. Settings: <c>Subscriptions</c>, and <c>Graph:ClientState</c>.
    /// </summary>
    public static IServiceCollection AddSubscriptionUpkeep(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SubscriptionOptions>()
            .Bind(configuration.GetSection(SubscriptionOptions.Section))
            .Configure(options => options.ClientState = configuration["Graph:ClientState"])
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddTransient<SubscriptionUpkeep>();
        services.AddTransient<IScheduledJob, SubscriptionUpkeepJob>();
        services.AddTransient<IMessageHandler, SubscriptionLifecycleHandler>();
        return services;
    }
}
