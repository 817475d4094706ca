using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EntraSnow.Flows.Intake;

public static class IntakeServiceCollectionExtensions
{
    /// <summary>The intake flow and its settings (validated at start-up). The host supplies <see cref="IMessageQueue"/>.</summary>
    public static IServiceCollection AddGraphIntake(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GraphIntakeOptions>()
            .Bind(configuration.GetSection(GraphIntakeOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ClientStateCheck>();
        services.AddSingleton<IntakeMetrics>();
        services.AddSingleton<GraphNotificationIntake>();
        return services;
    }
}
