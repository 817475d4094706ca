using Azure.Core;
using Azure.Monitor.OpenTelemetry.Exporter;
using EntraSnow.Flows.Intake;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Subscriptions;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace EntraSnow.Functions.Telemetry;

/// <summary>
/// Application Insights through OpenTelemetry and the Azure Monitor exporter, when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>
/// is set: the worker's invocation spans (continuing the host's trace), EntraSnow's intake and messaging spans and
/// meters, outgoing HTTP calls to Graph and ServiceNow, and the logs. The operation id is the trace id, which is also
/// the correlation id of a change (unless the caller sent its own, which every span then carries as an attribute), and
/// the queue messages carry it to their consumers. The exporter signs in with the app's one TokenCredential: the
/// Application Insights resource accepts Entra ID tokens only.
/// </summary>
public static class FunctionsTelemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Every ActivitySource EntraSnow's spans come from, plus .NET's own HttpClient spans (the calls to Graph and ServiceNow).</summary>
    public static readonly string[] ActivitySources = [IntakeMetrics.MeterName, MessagingTelemetry.Name, "System.Net.Http"];

    /// <summary>Every Meter whose instruments the workbook and alerts query (infra/app/workbook.bicep, alerts.bicep).</summary>
    public static readonly string[] Meters = [IntakeMetrics.MeterName, MessagingTelemetry.Name, ProvisioningTelemetry.Name, SubscriptionTelemetry.Name];

    public static IServiceCollection AddEntraSnowTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            // Nowhere to send it (func start without Application Insights): the worker keeps its logs going to the host.
            return services;
        }

        services.AddTelemetryPipeline().UseAzureMonitorExporter(exporter => exporter.ConnectionString = connectionString);
        services.AddOptions<AzureMonitorExporterOptions>().Configure<TokenCredential>((exporter, credential) => exporter.Credential = credential);
        return services;
    }

    /// <summary>What is collected, whatever it is exported to (tests add an in-memory exporter).</summary>
    internal static IOpenTelemetryBuilder AddTelemetryPipeline(this IServiceCollection services) =>
        services.AddOpenTelemetry()
            .UseFunctionsWorkerDefaults()
            .WithTracing(tracing => tracing.AddSource(ActivitySources))
            .WithMetrics(metrics => metrics.AddMeter(Meters));
}
