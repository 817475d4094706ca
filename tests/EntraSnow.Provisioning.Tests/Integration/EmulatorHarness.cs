using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.ProvisioningLog;
using EntraSnow.LocalHost.Stores;
using EntraSnow.Provisioning.Tests.Fakes;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Provisioning.Tests.Integration;

/// <summary>
/// Both emulators over real HTTP on loopback, the real Graph and ServiceNow connectors, the real flows, SQLite
/// stores in a temp folder, and an in-memory queue whose consumer runs every message through MessageProcessor
/// as a host does. Rescheduled messages wait until the test lets time pass (<see cref="ReleaseScheduled"/>).
/// </summary>
internal sealed class EmulatorHarness : IAsyncDisposable
{
    private readonly LoopbackEmulators _emulators;

    private EmulatorHarness(LoopbackEmulators emulators)
    {
        _emulators = emulators;
    }

    public GraphEmulatorServer Graph => _emulators.Graph;

    public ServiceNowEmulatorServer ServiceNow => _emulators.ServiceNow;

    public InMemoryQueue Queue { get; } = new();

    public GraphSeedResult Seeded { get; private init; } = null!;

    public List<(ChangeMessage Message, string Reason)> DeadLettered { get; } = [];

    public ServiceProvider Services { get; private set; } = null!;

    public FullSyncRunner FullSync => Services.GetRequiredService<FullSyncRunner>();

    public IProvisioningLog Log => Services.GetRequiredService<IProvisioningLog>();

    public static async Task<EmulatorHarness> StartAsync(GraphSeedSpec seed, IDictionary<string, string?>? settings = null)
    {
        var emulators = await LoopbackEmulators.StartAsync("entrasnow-prov-");
        var seeded = emulators.Graph.Seed(seed);
        var harness = new EmulatorHarness(emulators) { Seeded = seeded };
        harness.Build(settings ?? new Dictionary<string, string?>());
        return harness;
    }

    private void Build(IDictionary<string, string?> overrides)
    {
        var values = _emulators.ConnectorSettings(new Dictionary<string, string?>
        {
            // Waiting is the message processor's job here: one attempt per delivery, no breaker across tests.
            ["ServiceNow:MaxRetryAttempts"] = "0",
            ["ServiceNow:CircuitBreakerMinimumThroughput"] = "10000",
            ["Graph:MaxRetries"] = "0",
            ["Messaging:InlineRetries"] = "0",
            ["Provisioning:FollowUpDelay"] = "00:00:01",
        }.Concat(overrides));

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddGraphConnector(configuration);
        services.AddServiceNowConnector(configuration);
        services.AddProvisioning(configuration);
        services.AddOptions<MessagingOptions>().Bind(configuration.GetSection(MessagingOptions.Section));
        services.AddSingleton<MessageProcessor>();
        services.AddSingleton<IMessageQueue>(Queue);
        services.AddSingleton<ICheckpointStore>(new SqliteCheckpointStore(Path.Combine(_emulators.DataPath, "checkpoints.db")));
        services.AddSingleton<IProvisioningLog>(new SqliteProvisioningLog(Path.Combine(_emulators.DataPath, "provisioning-log.db")));
        Services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    /// <summary>Delivers ready messages until none is left; rescheduled ones wait for <see cref="ReleaseScheduled"/>.</summary>
    public async Task<int> DrainAsync()
    {
        var handled = 0;
        while (Queue.Take() is { } next)
        {
            await ProcessAsync(next);
            handled++;
        }

        return handled;
    }

    /// <summary>Delivers the first ready message <paramref name="which"/> picks, ahead of the others; false when there is none.</summary>
    public async Task<bool> HandleNextAsync(Func<ChangeMessage, bool> which)
    {
        if (Queue.Take(which) is not { } next)
        {
            return false;
        }

        await ProcessAsync(next);
        return true;
    }

    private async Task ProcessAsync((string Queue, ChangeMessage Message) next)
    {
        var processor = Services.GetRequiredService<MessageProcessor>();
        var handler = Services.GetServices<IMessageHandler>().First(h => h.Queue == next.Queue);
        var disposition = await processor.ProcessAsync(handler, next.Message, CancellationToken.None);
        switch (disposition)
        {
            case MessageDisposition.Reschedule r:
                await Queue.ScheduleAsync(next.Queue, next.Message with { Attempt = r.NextAttempt }, r.VisibleAt);
                break;
            case MessageDisposition.DeadLetter d:
                DeadLettered.Add((next.Message, d.Description));
                break;
        }
    }

    public int ReleaseScheduled() => Queue.ReleaseScheduled();

    /// <summary>Drains, lets scheduled work (follow-ups, retries) come due, and drains again until quiet.</summary>
    public async Task DrainAllAsync()
    {
        do
        {
            await DrainAsync();
        }
        while (ReleaseScheduled() > 0);
    }

    /// <summary>A full sync, consumers running beside it, to the end.</summary>
    public async Task<SyncProgress> RunFullSyncAsync() => await FinishFullSyncAsync(await FullSync.StartAsync());

    /// <summary>A full sync already started, consumers running beside it, to the end.</summary>
    public async Task<SyncProgress> FinishFullSyncAsync(string runId)
    {
        var waiting = FullSync.WaitAsync(runId);
        while (!waiting.IsCompleted)
        {
            await DrainAllAsync();
            await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(20)));
        }

        return await waiting;
    }

    public IReadOnlyList<IReadOnlyDictionary<string, string>> SysUsers => ServiceNow.Store.Query("sys_user", "u_entra_object_idISNOTEMPTY");

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await _emulators.DisposeAsync();
    }
}
