using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.InactiveSweep;

public static class InactiveSweepServiceCollectionExtensions
{
    /// <summary>
    /// The inactive-account sweep (<see cref="InactiveSweepRunner"/>, its timer job and the start-up check of the review
    /// group) and the <c>InactiveSweep</c> options, validated at start-up. The host supplies IDirectory, IServiceNowTable,
    /// IServiceNowReferences and ICheckpointStore.
    /// </summary>
    public static IServiceCollection AddInactiveSweep(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<InactiveSweepOptions>()
            .Bind(configuration.GetSection(InactiveSweepOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<InactiveSweepOptions>, InactiveSweepOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ReviewAssignmentGroup>();
        services.TryAddSingleton<InactiveSweepRunner>();
        services.AddSingleton<IScheduledJob, InactiveSweepJob>();
        services.AddHostedService<AssignmentGroupCheck>();
        return services;
    }
}
