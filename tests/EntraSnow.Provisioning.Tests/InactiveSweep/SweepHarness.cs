using System.Globalization;
using System.Text.Json.Nodes;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Stores;
using EntraSnow.Provisioning.Tests.Integration;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Provisioning.Tests.InactiveSweep;

/// <summary>
/// A clock that reads a fixed instant the test moves (so the review cycle and a review's age are known) and waits for real
/// (retry waits are zero here, and the connectors' Retry-After waits must not hang on a clock nobody advances).
/// </summary>
internal sealed class FixedNow(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>
/// Both emulators on loopback, the real connectors and the sweep, a SQLite checkpoint store in a temp folder that
/// outlives <see cref="RestartAsync"/> (a new process after a crash). ServiceNow stamps records with the sweep's clock.
/// </summary>
internal sealed class SweepHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);

    public const string ReviewGroup = "Identity and Access Management";

    private readonly LoopbackEmulators _emulators;
    private readonly Dictionary<string, string?> _settings;

    private SweepHarness(LoopbackEmulators emulators, FixedNow clock, Dictionary<string, string?> settings)
    {
        _emulators = emulators;
        Clock = clock;
        _settings = settings;
        Services = Build();
    }

    public GraphEmulatorServer Graph => _emulators.Graph;

    public ServiceNowEmulatorServer ServiceNow => _emulators.ServiceNow;

    public FixedNow Clock { get; }

    public ServiceProvider Services { get; private set; }

    public InactiveSweepRunner Runner => Services.GetRequiredService<InactiveSweepRunner>();

    public GraphCallCounter GraphCalls => Services.GetRequiredService<GraphCallCounter>();

    public static async Task<SweepHarness> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var clock = new FixedNow(Now);
        var emulators = await LoopbackEmulators.StartAsync("entrasnow-sweep-", clock);
        var values = emulators.ConnectorSettings(new Dictionary<string, string?>
        {
            ["ServiceNow:RetryBaseDelay"] = "00:00:00",
            ["ServiceNow:CircuitBreakerMinimumThroughput"] = "10000",
            ["Graph:BackoffBase"] = "00:00:00",
            ["InactiveSweep:Enabled"] = "true",
            ["InactiveSweep:AssignmentGroup"] = ReviewGroup,
        }.Concat(settings ?? new Dictionary<string, string?>()));
        return new SweepHarness(emulators, clock, values);
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
        services.AddSingleton<ICheckpointStore>(new SqliteCheckpointStore(Path.Combine(_emulators.DataPath, "checkpoints.db")));
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
        await _emulators.DisposeAsync();
    }
}
