using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

public static class GroupChangesServiceCollectionExtensions
{
    /// <summary>
    /// What the group-changes consumer needs beside provisioning: the <c>GroupChanges</c> options (validated at start-up),
    /// the membership mirror and a full run's comparison of groups in chunks, the change-record writer with its ledger, and the start-up check of the assignment group.
    /// <see cref="Provisioning.ProvisioningServiceCollectionExtensions.AddProvisioning"/> calls it, so both hosts get it.
    /// </summary>
    public static IServiceCollection AddGroupChangeRecords(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GroupChangeOptions>()
            .Bind(configuration.GetSection(GroupChangeOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GroupChangeOptions>, GroupChangeOptionsValidator>());
        services.TryAddSingleton<GroupMembershipMirror>();
        services.TryAddSingleton<GroupChunkComparison>();
        services.AddMembershipFulfilment();
        services.TryAddSingleton<ChangeAssignmentGroup>();
        services.TryAddSingleton<IMembershipActors, AuditLogMembershipActors>();
        services.TryAddSingleton<ActorFollowUp>();
        services.TryAddSingleton<BulkChangeSummaries>();
        services.TryAddSingleton<MembershipTransitions>();
        services.TryAddSingleton<SensitiveGroupPolicy>();
        services.TryAddSingleton<MembershipChangeRecorder>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ChangeSettingsCheck>());
        return services;
    }

    /// <summary>
    /// Changing group memberships in Entra on behalf of a ticket (<see cref="MembershipFulfilment"/>), noted in the
    /// ledger so the change records recognise EntraSnow's own changes, and carrying out ServiceNow's decisions on
    /// changes that wait for approval (<see cref="ChangeDecisions"/>). The host supplies IDirectory, IServiceNowTable
    /// and ICheckpointStore.
    /// </summary>
    public static IServiceCollection AddMembershipFulfilment(this IServiceCollection services)
    {
        services.AddOptions<GroupChangeOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MembershipLedger>();
        services.TryAddSingleton<MembershipFulfilment>();
        services.TryAddSingleton<ChangeDecisions>();
        return services;
    }
}
