using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Tests.ServiceBusAmqp;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using EntraSnow.Tests.Shared;

namespace EntraSnow.Functions.Tests.WorkerProtocol;

/// <summary>
/// Everything the worker reaches, on loopback, in place of Azure and the tenant: Service Bus (the AMQP namespace the
/// SDK talks to), Table storage (Azurite), Graph and ServiceNow (the sandbox emulators). The worker gets the settings
/// azd provisions with only these endpoints changed, so it reaches nothing outside this machine.
/// </summary>
internal sealed class LoopbackAzure : IAsyncDisposable
{
    private readonly AzuriteFixture _tables = new();

    private LoopbackAzure(LoopbackServiceBus serviceBus, GraphEmulatorServer graph, ServiceNowEmulatorServer serviceNow)
    {
        ServiceBus = serviceBus;
        Graph = graph;
        ServiceNow = serviceNow;
    }

    public LoopbackServiceBus ServiceBus { get; }

    public GraphEmulatorServer Graph { get; }

    public ServiceNowEmulatorServer ServiceNow { get; }

    /// <summary>The users and groups Graph holds from the start.</summary>
    public GraphSeedResult Seeded { get; private set; } = null!;

    public static async Task<LoopbackAzure> StartAsync()
    {
        var azure = new LoopbackAzure(
            new LoopbackServiceBus(QueueNames.All),
            await GraphEmulatorServer.StartAsync(),
            await ServiceNowEmulatorServer.StartAsync(seed: true));
        await azure._tables.InitializeAsync();
        azure.Seeded = azure.Graph.Seed(new GraphSeedSpec { Users = 6, Groups = 2, GroupsPerUser = 1, RiskDetections = 0 });
        return azure;
    }

    /// <summary>The provisioned settings, pointed at these endpoints; Graph notifications reach the app through <paramref name="hostUri"/>.</summary>
    public Dictionary<string, string?> Settings(Uri hostUri)
    {
        var settings = FunctionsCompositionTests.AzureSettings();
        settings.Remove("AzureTables:Endpoint");
        settings["AzureTables:ConnectionString"] = _tables.ConnectionString;
        settings["ServiceBus:ConnectionString"] = ServiceBus.ConnectionString;
        // The worker's first write opens the connection; on a busy machine that alone can pass the intake's 2 s, which
        // GraphNotificationFunctionsTests prove on a fake clock. Here a write either lands or is refused.
        settings["ServiceBus:SendTimeout"] = "00:00:30";
        settings["Subscriptions:NotificationUrl"] = new Uri(hostUri, "api/graph/notifications").AbsoluteUri;
        settings["Subscriptions:LifecycleNotificationUrl"] = new Uri(hostUri, "api/graph/lifecycle").AbsoluteUri;
        foreach (var (key, value) in Graph.ConnectorSettings.Concat(ServiceNow.ConnectorSettings))
        {
            settings[key] = value;
        }

        return settings;
    }

    public async ValueTask DisposeAsync()
    {
        ServiceBus.Dispose();
        await Graph.DisposeAsync();
        await ServiceNow.DisposeAsync();
        await _tables.DisposeAsync();
    }
}
