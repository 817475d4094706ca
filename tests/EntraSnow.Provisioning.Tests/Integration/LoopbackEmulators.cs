using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Provisioning.Tests.Integration;

/// <summary>
/// Both emulators over real HTTP on loopback (ServiceNow with its reference data), the settings that point the real
/// connectors at them, and a temp folder for the SQLite stores: what every over-HTTP harness here starts from.
/// </summary>
internal sealed class LoopbackEmulators : IAsyncDisposable
{
    private LoopbackEmulators(GraphEmulatorServer graph, ServiceNowEmulatorServer serviceNow, string dataPath)
    {
        Graph = graph;
        ServiceNow = serviceNow;
        DataPath = dataPath;
    }

    public GraphEmulatorServer Graph { get; }

    public ServiceNowEmulatorServer ServiceNow { get; }

    /// <summary>A folder of its own for the harness's SQLite files, deleted on dispose.</summary>
    public string DataPath { get; }

    /// <param name="serviceNowClock">The clock ServiceNow stamps records with (<c>sys_created_on</c>, <c>opened_at</c>).</param>
    public static async Task<LoopbackEmulators> StartAsync(string folderPrefix, TimeProvider? serviceNowClock = null)
    {
        var graph = await GraphEmulatorServer.StartAsync();
        var serviceNow = await ServiceNowEmulatorServer.StartAsync(timeProvider: serviceNowClock, seed: true);
        var dataPath = Path.Combine(Path.GetTempPath(), folderPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataPath);
        return new LoopbackEmulators(graph, serviceNow, dataPath);
    }

    /// <summary>The Graph and ServiceNow connector settings for these emulators, with <paramref name="overrides"/> applied last.</summary>
    public Dictionary<string, string?> ConnectorSettings(IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        var values = new Dictionary<string, string?>(Graph.ConnectorSettings);
        foreach (var (key, value) in ServiceNow.ConnectorSettings.Concat(overrides ?? []))
        {
            values[key] = value;
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        await Graph.DisposeAsync();
        await ServiceNow.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataPath, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
