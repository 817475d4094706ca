using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace EntraSnow.Flows.Risk;

public static class RiskServiceCollectionExtensions
{
    /// <summary>
    /// Risk detections to ServiceNow: the "risk-poll" <see cref="IScheduledJob"/>, the <see cref="IMessageHandler"/> of the
    /// risk-detections queue that turns them into incidents, and the <c>Risk</c> and <c>Risk:Incident</c> options, validated
    /// at start-up; the assignment group is resolved once the host has started, and one ServiceNow does not have stops
    /// the start naming the setting. Needs IDirectory (AddGraphConnector), IServiceNowTable and IServiceNowReferences (AddServiceNowConnector),
    /// IMessageQueue and ICheckpointStore from the host.
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
        services.AddOptions<RiskIncidentOptions>()
            .Bind(configuration.GetSection(RiskIncidentOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RiskDetectionPoller>();
        services.AddSingleton<IScheduledJob, RiskPollJob>();
        services.AddSingleton<IMessageHandler, RiskIncidentHandler>();
        services.TryAddSingleton<RiskAssignmentGroup>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RiskSettingsCheck>());
        return services;
    }
}
