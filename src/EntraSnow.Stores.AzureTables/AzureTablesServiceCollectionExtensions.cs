using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Stores.AzureTables;

public static class AzureTablesServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ICheckpointStore"/>, <see cref="IProvisioningLog"/>, <see cref="IWebhookReplayStore"/> and
    /// <see cref="ISharedConnectorPauses"/> and <see cref="IHeldCopies"/> (paused connectors and the work held for them,
    /// shared by every instance) on Azure Table storage, from section
    /// <c>AzureTables</c> (validated at start-up): the endpoint with the managed identity in Azure, a connection string for Azurite.
    /// </summary>
    public static IServiceCollection AddAzureTableStores(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AzureTablesOptions>()
            .Bind(configuration.GetSection(AzureTablesOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<AzureTablesOptions>>().Value;
            if (!string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                return new TableServiceClient(options.ConnectionString);
            }

            // The host's one credential when it has one (the Functions app's identity, shared with Graph and Service Bus).
            var credential = sp.GetService<TokenCredential>() ?? new DefaultAzureCredential(new DefaultAzureCredentialOptions
            {
                ManagedIdentityClientId = string.IsNullOrEmpty(options.ManagedIdentityClientId) ? null : options.ManagedIdentityClientId,
            });
            return new TableServiceClient(options.Endpoint, credential);
        });
        services.TryAddSingleton<ICheckpointStore>(sp => new TableCheckpointStore(
            sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<IOptions<AzureTablesOptions>>().Value.TablePrefix,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IProvisioningLog>(sp => new TableProvisioningLog(
            sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<AzureTablesOptions>>().Value.TablePrefix));
        services.TryAddSingleton<IWebhookReplayStore>(sp => new TableWebhookReplayStore(
            sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<IOptions<AzureTablesOptions>>().Value.TablePrefix));
        services.TryAddSingleton<ISharedConnectorPauses>(sp => new TableConnectorPauses(
            sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<IOptions<AzureTablesOptions>>().Value.TablePrefix));
        services.TryAddSingleton<IHeldCopies>(sp => new TableHeldCopies(
            sp.GetRequiredService<TableServiceClient>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<AzureTablesOptions>>().Value.TablePrefix));
        return services;
    }
}
