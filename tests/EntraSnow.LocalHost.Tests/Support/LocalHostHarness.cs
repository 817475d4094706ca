using System.Net;
using System.Net.Sockets;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.Sandbox.Graph;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Support;

/// <summary>
/// The local host booted in-process on a free loopback port with its own data folder, exactly as
/// <c>dotnet run --project src/EntraSnow.LocalHost</c> builds it. Settings are passed as <c>--Key=value</c> arguments.
/// </summary>
public sealed class LocalHostHarness : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly bool _ownsData;

    private LocalHostHarness(WebApplication app, string baseUrl, string dataPath, bool ownsData)
    {
        _app = app;
        BaseUrl = baseUrl;
        DataPath = dataPath;
        _ownsData = ownsData;
        Client = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string BaseUrl { get; }

    public string DataPath { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public SqliteQueueStore Queues => Services.GetRequiredService<SqliteQueueStore>();

    /// <summary>
    /// Settings for tests of intake alone: nothing consumes, no timer runs and the sandbox seeds no users, so the queues
    /// hold exactly what the test posted.
    /// </summary>
    public static Dictionary<string, string?> IntakeOnly(string clientState) => new()
    {
        ["Graph:ClientState"] = clientState,
        ["LocalHost:RunConsumers"] = "false",
        ["LocalHost:RunTimers"] = "false",
        ["Sandbox:Seed:Users"] = "0",
        ["Sandbox:Seed:InitialSync"] = "false",
    };

    /// <summary>
    /// A local host whose sandbox holds no directory yet: no timer runs, the sandbox seeds no users and starts no first
    /// sync, so the emulators hold what the test puts in (<see cref="SeedDirectoryAsync"/>, or users one by one) and the
    /// queues what the test sends. Consumers run.
    /// </summary>
    /// <param name="settings">Settings beside those (they win over them).</param>
    /// <param name="clock">The host's clock, for tests in virtual time.</param>
    public static Task<LocalHostHarness> StartEmptyAsync(IDictionary<string, string?>? settings = null, TimeProvider? clock = null)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["LocalHost:RunTimers"] = "false",
            ["Sandbox:Seed:Users"] = "0",
            ["Sandbox:Seed:InitialSync"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return StartAsync(all, configure: clock is null ? null : builder => builder.Services.AddSingleton(clock));
    }

    /// <summary>Seeds the Graph emulator once the sandbox's own first run (reference data) is done, so none of it mixes in.</summary>
    public async Task<GraphSeedResult> SeedDirectoryAsync(GraphSeedSpec spec)
    {
        var checkpoints = Services.GetRequiredService<ICheckpointStore>();
        await Eventually.AssertAsync(async () => await checkpoints.GetAsync("sandbox:seeded") is not null, "the sandbox's first run", TimeSpan.FromSeconds(60));
        return Services.GetRequiredService<GraphEmulator>().Seed(spec);
    }

    /// <summary>Waits until the queues hold nothing: queued, in flight or scheduled (follow-ups included).</summary>
    public Task DrainedAsync(string what, TimeSpan? patience = null) => Eventually.AssertAsync(
        async () => (await Queues.GetStatsAsync()).All(q => q.Depth + q.InFlight + q.Scheduled == 0), what, patience ?? TimeSpan.FromSeconds(60));

    /// <param name="settings">Extra settings, e.g. <c>["LocalHost:RunConsumers"] = "false"</c>.</param>
    /// <param name="dataPath">Reuse a data folder (to restart over the same queues); a fresh temp folder by default.</param>
    /// <param name="configure">Changes to the builder before it builds (e.g. a logger provider that records every line).</param>
    public static async Task<LocalHostHarness> StartAsync(IDictionary<string, string?>? settings = null, string? dataPath = null, Action<WebApplicationBuilder>? configure = null)
    {
        var ownsData = dataPath is null;
        dataPath ??= NewDataPath();
        var baseUrl = $"http://127.0.0.1:{FreePort()}";
        var app = LocalHostApp.Build(Arguments(baseUrl, dataPath, settings), configure);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A host that refused to start (bad settings) still holds its port and files.
            await app.DisposeAsync();
            throw;
        }

        return new LocalHostHarness(app, baseUrl, dataPath, ownsData);
    }

    public static string[] Arguments(string baseUrl, string dataPath, IDictionary<string, string?>? settings)
    {
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["LocalHost:Url"] = baseUrl,
            ["LocalHost:DataPath"] = dataPath,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            all[key] = value;
        }

        return all.Where(kv => kv.Value is not null).Select(kv => $"--{kv.Key}={kv.Value}").ToArray();
    }

    public static string NewDataPath() => Path.Combine(Path.GetTempPath(), "entrasnow-tests", Guid.NewGuid().ToString("N"));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsData)
        {
            TryDelete(DataPath);
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
