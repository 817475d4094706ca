using Azure.Core;
using Azure.Identity;
using EntraSnow.Flows.Intake;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Consumers;
using EntraSnow.Functions.Health;
using EntraSnow.Functions.Intake;
using EntraSnow.Functions.Messaging;
using EntraSnow.Functions.Retention;
using EntraSnow.Functions.Risk;
using EntraSnow.Functions.Sweep;
using EntraSnow.Functions.Timers;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.AccessRequests;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.PasswordReset;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.Risk;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Functions.ServiceNow;
using EntraSnow.Flows.Subscriptions;
using EntraSnow.Http;
using EntraSnow.Stores.AzureTables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Functions;

/// <summary>Everything the Functions app runs, registered in one place so tests can build and check the same composition.</summary>
public static class FunctionsComposition
{
    public static IServiceCollection AddEntraSnowFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();

        // One identity for everything: the app's user-assigned managed identity (AZURE_CLIENT_ID), or a developer's sign-in locally.
        services.TryAddSingleton<TokenCredential>(_ => new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ManagedIdentityClientId = configuration["AZURE_CLIENT_ID"],
        }));

        services.AddOptions<MessagingOptions>().Bind(configuration.GetSection(MessagingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddServiceBusQueue(configuration);

        services.AddGraphIntake(configuration);
        services.AddSingleton<GraphNotificationEndpoint>();
        services.AddServiceNowWebhooks(configuration);
        services.AddSingleton<ServiceNowWebhookEndpoint>();
        services.AddSingleton<MessageProcessor>();
        services.AddSingleton<ServiceBusDelivery>();
        services.AddSingleton<HeldMessageRelease>();

        // The same connectors and flows the local host runs; Azure Table storage holds checkpoints and the provisioning log.
        services.AddGraphConnector(configuration);
        services.AddServiceNowConnector(configuration);
        services.AddAzureTableStores(configuration);
        services.AddProvisioning(configuration);
        services.AddSubscriptionUpkeep(configuration);
        services.AddPasswordResets(configuration);
        services.AddAccessRequests(configuration);
        services.AddRiskDetections(configuration);
        services.AddInactiveSweep(configuration);
        services.AddRetention(configuration);
        services.AddSingleton<IHostDataRetention, ServiceBusDeadLetterRetention>();

        services.AddTransient<GraphNotificationFunctions>();
        services.AddTransient<ServiceNowWebhookFunctions>();
        services.AddTransient<CatalogConsumerFunctions>();
        services.AddTransient<AccessRequestFunctions>();
        services.AddTransient<QueueConsumerFunctions>();
        services.AddTransient<ScheduledJobFunctions>();
        services.AddTransient<RiskFunctions>();
        services.AddTransient<InactiveSweepFunctions>();
        services.AddTransient<RetentionFunctions>();
        services.AddTransient<HealthFunctions>();
        return services;
    }
}
