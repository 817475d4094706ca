using System.Globalization;
using System.Text.Json.Nodes;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Stores;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Provisioning.Tests.InactiveSweep;

/// <summary>A clock that reads a fixed instant (so the review cycle is known) and waits for real (waits are zero here).</summary>
internal sealed class FixedNow(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// Both emulators on loopback, the real connectors and the sweep, a SQLite checkpoint store in a temp folder that
/// outlives <see cref="Restart"/> (a new process after a crash).
/// </summary>
internal sealed class SweepHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);

    public const string ReviewGroup = "Identity and Access Management";

    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "entrasnow-sweep-" + Guid.NewGuid().ToString("N"));
    private readonly Dictionary<string, string?> _settings;

    private SweepHarness(GraphEmulatorServer graph, ServiceNowEmulatorServer serviceNow, Dictionary<string, string?> settings)
    {
        Graph = graph;
        ServiceNow = serviceNow;
        _settings = settings;
        Directory.CreateDirectory(_dataPath);
        Services = Build();
    }

    public GraphEmulatorServer Graph { get; }

    public ServiceNowEmulatorServer ServiceNow { get; }

    public FixedNow Clock { get; } = new(Now);

    public ServiceProvider Services { get; private set; }

    public InactiveSweepRunner Runner => Services.GetRequiredService<InactiveSweepRunner>();

    public GraphCallCounter GraphCalls => Services.GetRequiredService<GraphCallCounter>();

    public static async Task<SweepHarness> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var graph = await GraphEmulatorServer.StartAsync();
        var serviceNow = await ServiceNowEmulatorServer.StartAsync(seed: true);
        var values = new Dictionary<string, string?>(graph.ConnectorSettings)
        {
            ["ServiceNow:InstanceUrl"] = serviceNow.BaseUrl,
            ["ServiceNow:ClientId"] = serviceNow.Options.ClientId,
            ["ServiceNow:ClientSecret"] = serviceNow.Options.ClientSecret,
            ["ServiceNow:RetryBaseDelay"] = "00:00:00",
            ["ServiceNow:CircuitBreakerMinimumThroughput"] = "10000",
            ["Graph:BackoffBase"] = "00:00:00",
            ["InactiveSweep:Enabled"] = "true",
            ["InactiveSweep:AssignmentGroup"] = ReviewGroup,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        return new SweepHarness(graph, serviceNow, values);
    }

    public GraphSeedResult Seed(int users, int neverSignedInPercent = 10) =>
        Graph.Seed(new GraphSeedSpec { Users = users, Groups = 4, NeverSignedInPercent = neverSignedInPercent, ReferenceTime = Now });

    /// <summary>A new process on the same data: new connectors and runner, same checkpoint file, same emulators.</summary>
    public async Task RestartAsync(IDictionary<string, string?>? changedSettings = null)
    {
        foreach (var (key, value) in changedSettings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        await Services.DisposeAsync();
        Services = Build();
    }

    private ServiceProvider Build()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddGraphConnector(configuration);
        services.AddServiceNowConnector(configuration);
        services.AddInactiveSweep(configuration);
        services.AddSingleton<ICheckpointStore>(new SqliteCheckpointStore(Path.Combine(_dataPath, "checkpoints.db")));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    public IReadOnlyList<IReadOnlyDictionary<string, string>> Tasks(string table = "sc_task") =>
        ServiceNow.Store.Query(table, "correlation_idSTARTSWITHentra-inactive:");

    /// <summary>What the rules say, worked out from the emulator's own documents rather than through the connector.</summary>
    public IReadOnlyList<string> ExpectedInactive(IEnumerable<string> userIds, int inactiveDays = 90, int neverDays = 30, Func<JsonObject, bool>? alsoExclude = null) =>
        userIds.Where(id =>
        {
            var doc = Graph.Emulator.GetUser(id)!;
            if (doc["accountEnabled"]?.GetValue<bool>() == false || alsoExclude?.Invoke(doc) == true)
            {
                return false;
            }

            var last = doc["signInActivity"]?["lastSuccessfulSignInDateTime"]?.GetValue<string>();
            return last is not null
                ? Parse(last) <= Now.AddDays(-inactiveDays)
                : Parse(doc["createdDateTime"]!.GetValue<string>()) <= Now.AddDays(-neverDays);
        }).ToList();

    public static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Graph.DisposeAsync();
        await ServiceNow.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
