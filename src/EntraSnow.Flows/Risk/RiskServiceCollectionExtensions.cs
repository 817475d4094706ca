using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.Risk;

public static class RiskServiceCollectionExtensions
{
    /// <summary>
    /// Risk detections to ServiceNow: the "risk-poll" <see cref="IScheduledJob"/> and the <c>Risk</c> options, validated at
    /// start-up. Needs IDirectory (AddGraphConnector), IMessageQueue and ICheckpointStore from the host.
    /// </summary>
    public static IServiceCollection AddRiskDetections(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RiskOptions>()
            .Bind(configuration.GetSection(RiskOptions.Section))
            .PostConfigure(o =>
            {
                if (string.IsNullOrEmpty(o.TenantId))
                {
                    o.TenantId = configuration["Graph:TenantId"] is { Length: > 0 } tenant ? tenant : "sandbox";
                }
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RiskDetectionPoller>();
        services.AddSingleton<IScheduledJob, RiskPollJob>();
        return services;
    }
}
