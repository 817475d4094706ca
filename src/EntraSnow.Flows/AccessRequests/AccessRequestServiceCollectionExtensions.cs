using EntraSnow.Flows.CatalogTickets;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.AccessRequests;

public static class AccessRequestServiceCollectionExtensions
{
    /// <summary>
    /// The access-requests consumer and its <c>AccessRequests</c> settings, validated at start-up. The host supplies
    /// IDirectory, IServiceNowTable and ICheckpointStore (the Graph and ServiceNow connectors, its store).
    /// </summary>
    public static IServiceCollection AddAccessRequests(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AccessRequestOptions>()
            .Bind(configuration.GetSection(AccessRequestOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddCatalogTickets();
        services.AddMembershipFulfilment();
        services.AddSingleton<IMessageHandler, AccessRequestHandler>();
        return services;
    }
}
