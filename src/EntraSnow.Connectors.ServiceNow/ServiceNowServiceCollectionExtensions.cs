using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Connectors.ServiceNow;

public static class ServiceNowServiceCollectionExtensions
{
    /// <summary>The named HttpClient every Table API call goes through (resilience, auth, call counting).</summary>
    public const string TableClientName = "EntraSnow.ServiceNow.Table";

    /// <summary>
    /// Registers <see cref="IServiceNowTable"/>, <see cref="IServiceNowReferences"/>, <see cref="ServiceNowCallCounter"/> and
    /// the process's one <see cref="ServiceNowRequestBudget"/>,
    /// bound to section "ServiceNow" and validated at start-up. A <see cref="TimeProvider"/> already registered (a test
    /// clock, say) drives token expiry, reference-cache expiry and the resilience pipeline's waits.
    /// </summary>
    public static IServiceCollection AddServiceNowConnector(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(ServiceNowTokenSource)))
        {
            return services; // Already registered: a second resilience handler on the same client would wrap the first.
        }

        services.AddOptions<ServiceNowOptions>()
            .Bind(configuration.GetSection(ServiceNowOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ServiceNowCallCounter>();
        services.TryAddSingleton<ServiceNowTokenSource>();
        services.TryAddTransient<ServiceNowAuthenticationHandler>();
        services.TryAddTransient<CallCountingHandler>();
        services.TryAddSingleton<ServiceNowRequestBudget>();
        services.TryAddTransient<ServiceNowBudgetHandler>();
        services.TryAddTransient<ServiceNowRateLimitObserver>();

        services.AddHttpClient(ServiceNowTokenSource.TokenClientName, ConfigureClient)
            .AddHttpMessageHandler<CallCountingHandler>();

        // Handler order, outermost first: the shared budget (a place in line, the instance's pace), resilience (each retry
        // goes through the rest), the rate-limit headers of every attempt, auth, counting, the wire.
        var tableClient = services.AddHttpClient(TableClientName, ConfigureClient)
            .AddHttpMessageHandler<ServiceNowBudgetHandler>();
        tableClient.AddResilienceHandler("servicenow", static (builder, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<ServiceNowOptions>>().Value;
                var timeProvider = context.ServiceProvider.GetRequiredService<TimeProvider>();
                ServiceNowResilience.Configure(builder, options, timeProvider);
            });
        tableClient.AddHttpMessageHandler<ServiceNowRateLimitObserver>()
            .AddHttpMessageHandler<ServiceNowAuthenticationHandler>()
            .AddHttpMessageHandler<CallCountingHandler>();

        services.TryAddSingleton<IServiceNowTable, ServiceNowTableClient>();
        services.TryAddSingleton<IServiceNowReferences, ServiceNowReferenceCache>();
        return services;
    }

    private static void ConfigureClient(HttpClient client)
    {
        // Retries and 429 waits happen inside one SendAsync; the pipeline's own timeouts bound each attempt.
        client.Timeout = Timeout.InfiniteTimeSpan;
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("EntraSnow", "1.0"));
    }
}
