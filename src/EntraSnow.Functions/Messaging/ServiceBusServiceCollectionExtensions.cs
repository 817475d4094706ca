using Azure.Core;
using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Messaging;

internal static class ServiceBusServiceCollectionExtensions
{
    /// <summary>The queue port on one ServiceBusClient: the app's TokenCredential, or a connection string for an emulator.</summary>
    public static IServiceCollection AddServiceBusQueue(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ServiceBusOptions>().Bind(configuration.GetSection(ServiceBusOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ServiceBusOptions>, ServiceBusOptionsValidator>());

        services.TryAddSingleton(sp => new ServiceBusQueue(CreateClient(sp), sp.GetRequiredService<IOptions<ServiceBusOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IMessageQueue>(sp => sp.GetRequiredService<ServiceBusQueue>());
        return services;
    }

    private static ServiceBusClient CreateClient(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<ServiceBusOptions>>().Value;
        var clientOptions = new ServiceBusClientOptions
        {
            // Each try is bounded by the send budget; the queue port cuts the whole write off at the same budget.
            RetryOptions = new ServiceBusRetryOptions { MaxRetries = 3, Delay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), TryTimeout = options.SendTimeout },
        };
        return string.IsNullOrWhiteSpace(options.ConnectionString)
            ? new ServiceBusClient(options.FullyQualifiedNamespace, sp.GetRequiredService<TokenCredential>(), clientOptions)
            : new ServiceBusClient(options.ConnectionString, clientOptions);
    }
}
