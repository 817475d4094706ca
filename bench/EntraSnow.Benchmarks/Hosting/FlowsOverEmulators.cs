using System.Globalization;
using EntraSnow.Benchmarks.Provisioning;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.ProvisioningLog;
using EntraSnow.LocalHost.Stores;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;

namespace EntraSnow.Benchmarks.Hosting;

/// <summary>
/// The provisioning flows composed as a host composes them (the real Graph and ServiceNow connectors, SQLite checkpoints
/// and provisioning log in a temporary folder) over both emulators on loopback HTTP, with consumers taking one session
/// at a time as Service Bus sessions do, through an in-process queue. Disposing stops the consumers and the emulators
/// and deletes the folder.
/// </summary>
internal sealed class FlowsOverEmulators : IAsyncDisposable
{
    private readonly string _dataPath;
    private readonly CancellationTokenSource _stop;
    private readonly Task _consumers;

    private FlowsOverEmulators(GraphEmulatorServer graph, ServiceNowEmulatorServer serviceNow, ConcurrentSessionQueue queue, ServiceProvider services,
        string dataPath, int workers, CancellationToken cancellationToken)
    {
        Graph = graph;
        ServiceNow = serviceNow;
        Queue = queue;
        Services = services;
        _dataPath = dataPath;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _consumers = queue.RunConsumersAsync(services, workers, _stop.Token);
    }

    public GraphEmulatorServer Graph { get; }

    /// <summary>Seeded with its reference data (departments, locations, groups).</summary>
    public ServiceNowEmulatorServer ServiceNow { get; }

    public ConcurrentSessionQueue Queue { get; }

    public ServiceProvider Services { get; }

    /// <param name="workers">Consumers, and the ServiceNow connector's requests in flight.</param>
    public static async Task<FlowsOverEmulators> StartAsync(int workers, CancellationToken cancellationToken)
    {
        var graph = await GraphEmulatorServer.StartAsync(cancellationToken: cancellationToken);
        var serviceNow = await ServiceNowEmulatorServer.StartAsync(seed: true, cancellationToken: cancellationToken);
        var dataPath = BenchFolder.New("flows");
        var settings = new Dictionary<string, string?>(graph.ConnectorSettings)
        {
            ["ServiceNow:InstanceUrl"] = serviceNow.BaseUrl,
            ["ServiceNow:ClientId"] = serviceNow.Options.ClientId,
            ["ServiceNow:ClientSecret"] = serviceNow.Options.ClientSecret,
        };
        var queue = new ConcurrentSessionQueue();
        return new FlowsOverEmulators(graph, serviceNow, queue, Compose(settings, workers, queue, dataPath), dataPath, workers, cancellationToken);
    }

    /// <summary>
    /// The flows and connectors over the emulators <paramref name="connectorSettings"/> point at (<c>Graph:*</c>,
    /// <c>ServiceNow:*</c>), the queue given, and SQLite stores in <paramref name="dataPath"/> (created here).
    /// </summary>
    public static ServiceProvider Compose(IReadOnlyDictionary<string, string?> connectorSettings, int workers, ConcurrentSessionQueue queue, string dataPath)
    {
        Directory.CreateDirectory(dataPath);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(connectorSettings)
        {
            ["ServiceNow:MaxConcurrency"] = workers.ToString(CultureInfo.InvariantCulture),
            ["Provisioning:FollowUpDelay"] = "00:00:00.500",
            ["Provisioning:FullSyncPollInterval"] = "00:00:00.100",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGraphConnector(configuration);
        services.AddServiceNowConnector(configuration);
        services.AddProvisioning(configuration);
        services.AddSingleton<MessageProcessor>();
        services.AddSingleton<IMessageQueue>(queue);
        services.AddSingleton<ICheckpointStore>(new SqliteCheckpointStore(Path.Combine(dataPath, "checkpoints.db")));
        services.AddSingleton<IProvisioningLog>(new SqliteProvisioningLog(Path.Combine(dataPath, "provisioning-log.db")));
        return services.BuildServiceProvider();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _consumers;
        _stop.Dispose();
        await Services.DisposeAsync();
        BenchFolder.Delete(_dataPath);
        await ServiceNow.DisposeAsync();
        await Graph.DisposeAsync();
    }
}
