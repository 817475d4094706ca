using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.CatalogTickets;

public static class CatalogTicketServiceCollectionExtensions
{
    /// <summary>Reading catalog tickets back and writing their outcome; shared by the catalog consumers.</summary>
    public static IServiceCollection AddCatalogTickets(this IServiceCollection services)
    {
        // The Entra object id field on sys_user is a Provisioning setting (AddProvisioning binds it; both hosts call it).
        services.AddOptions<ProvisioningOptions>();
        services.TryAddSingleton<CatalogTicketStore>();
        return services;
    }
}
