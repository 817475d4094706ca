using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.AccessRequests;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.PasswordReset;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.Risk;
using EntraSnow.Flows.Subscriptions;
using EntraSnow.LocalHost.ProvisioningLog;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Hosting;

/// <summary>Wires the connectors, the flows and (in sandbox mode) the emulators into the local host.</summary>
internal static class LocalHostComposition
{
    public static void AddFlowsAndConnectors(WebApplicationBuilder builder, SandboxMode sandbox)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.AddGraphConnector(configuration);
        services.AddServiceNowConnector(configuration);
        services.AddProvisioning(configuration);
        services.AddSubscriptionUpkeep(configuration);
        services.AddPasswordResets(configuration);
        services.AddAccessRequests(configuration);
        services.AddRiskDetections(configuration);
        services.AddInactiveSweep(configuration);
        services.AddRetention(configuration);
        services.AddSingleton(sp => new SqliteProvisioningLog(sp.GetRequiredService<IOptions<LocalHostOptions>>().Value.ProvisioningLogDatabase));
        services.AddSingleton<IProvisioningLog>(sp => sp.GetRequiredService<SqliteProvisioningLog>());

        var sandboxPath = (configuration.GetSection(LocalHostOptions.Section).Get<LocalHostOptions>() ?? new LocalHostOptions()).SandboxPath;
        // Folders are made when an emulator first opens its store, so a command that only reads makes none.
        if (sandbox.Graph)
        {
            services.AddGraphEmulator(o =>
            {
                Directory.CreateDirectory(sandboxPath);
                configuration.GetSection("Sandbox:Graph").Bind(o);
                o.DatabasePath = Path.Combine(sandboxPath, "graph.db");
                o.TenantId = SandboxMode.TenantId;
                o.ClientId = SandboxMode.GraphClientId;
            });
        }

        if (sandbox.ServiceNow)
        {
            services.AddServiceNowEmulator(o => o.DatabasePath = Path.Combine(sandboxPath, "servicenow.db"));
        }

        if (sandbox.Any)
        {
            services.AddOptions<SandboxSeedOptions>().Bind(configuration.GetSection(SandboxSeedOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
            services.AddHostedService<SandboxFirstRun>();
        }
    }

    public static void MapSandbox(WebApplication app, SandboxMode sandbox)
    {
        if (sandbox.Graph)
        {
            app.MapGraphEmulator(SandboxMode.GraphPrefix);
        }

        if (sandbox.ServiceNow)
        {
            app.MapServiceNowEmulator(SandboxMode.ServiceNowPrefix);
        }
    }
}
