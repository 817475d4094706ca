using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.Retention;

public static class RetentionServiceCollectionExtensions
{
    /// <summary>
    /// The retention job and the <c>Retention</c> options, validated at start-up. The host supplies IDirectory,
    /// ICheckpointStore, IProvisioningLog, IWebhookReplayStore and, for its own data (dead letters, disk space), any IHostDataRetention.
    /// </summary>
    public static IServiceCollection AddRetention(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetentionOptions>()
            .Bind(configuration.GetSection(RetentionOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<DeletedObjects>();
        services.TryAddSingleton<RetentionJob>();
        services.AddSingleton<IScheduledJob>(sp => sp.GetRequiredService<RetentionJob>());
        return services;
    }
}
