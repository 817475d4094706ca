using EntraSnow.Flows.CatalogTickets;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.PasswordReset;

public static class PasswordResetServiceCollectionExtensions
{
    /// <summary>
    /// The password-resets consumer and its <c>PasswordReset</c> settings, validated at start-up. The host supplies
    /// IDirectory, IUserPrivileges, IMailSender and IServiceNowTable (the Graph and ServiceNow connectors).
    /// </summary>
    public static IServiceCollection AddPasswordResets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PasswordResetOptions>()
            .Bind(configuration.GetSection(PasswordResetOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddCatalogTickets();
        services.AddSingleton<IMessageHandler, PasswordResetHandler>();
        return services;
    }
}
