using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.FullSync.DryRun;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

public static class ProvisioningServiceCollectionExtensions
{
    /// <summary>
    /// The user-changes and group-changes handlers, the full sync (<see cref="FullSyncRunner"/> and its timer job) and
    /// the <c>Provisioning</c> options, validated at start-up. The host supplies IDirectory, IServiceNowTable,
    /// IServiceNowReferences, IMessageQueue, ICheckpointStore and IProvisioningLog.
    /// </summary>
    public static IServiceCollection AddProvisioning(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ProvisioningOptions>()
            .Bind(configuration.GetSection(ProvisioningOptions.Section))
            .PostConfigure(o =>
            {
                if (string.IsNullOrEmpty(o.TenantId))
                {
                    o.TenantId = configuration["Graph:TenantId"] is { Length: > 0 } tenant ? tenant : "sandbox";
                }
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProvisioningOptions>, ProvisioningOptionsValidator>());
        services.AddOptions<MessagingOptions>();
        services.TryAddSingleton(TimeProvider.System);

        services.TryAddSingleton<ProvisionedUserIds>();
        services.TryAddSingleton<UserAttributeMapper>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IForgetFailuresOnReplay, UserAttributeMapper>(sp => sp.GetRequiredService<UserAttributeMapper>()));
        services.TryAddSingleton<UserScope>();
        services.TryAddSingleton(sp => new UserChunkComparison(sp.GetRequiredService<Connectors.ServiceNow.IServiceNowTable>(),
            sp.GetRequiredService<UserAttributeMapper>(), sp.GetRequiredService<ProvisionedUserIds>(), sp.GetRequiredService<UserScope>(),
            sp.GetRequiredService<IOptions<ProvisioningOptions>>()));
        services.TryAddSingleton<FullSyncRunner>();
        services.AddSingleton<IMessageHandler, ProvisionUserHandler>();
        services.TryAddSingleton<ProvisionOnDemand>();
        services.TryAddSingleton<SyncDryRun>();
        services.AddGroupChangeRecords(configuration);
        services.AddSingleton<IMessageHandler, GroupChangesHandler>();
        services.AddSingleton<IScheduledJob, FullSyncJob>();
        return services;
    }
}
