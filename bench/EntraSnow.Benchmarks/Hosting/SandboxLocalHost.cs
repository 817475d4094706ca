using EntraSnow.LocalHost.Hosting;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Benchmarks.Hosting;

/// <summary>
/// The local host as <c>dotnet run --project src/EntraSnow.LocalHost</c> builds it, in sandbox mode with both emulators
/// in this process, on a free loopback port and its own temporary data folder, logging warnings only. Disposing stops it
/// and deletes the folder.
/// </summary>
internal sealed class SandboxLocalHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataPath;

    private SandboxLocalHost(WebApplication app, string dataPath)
    {
        _app = app;
        _dataPath = dataPath;
    }

    public IServiceProvider Services => _app.Services;

    public GraphEmulator Graph => Services.GetRequiredService<GraphEmulator>();

    public ServiceNowEmulatorStore ServiceNow => Services.GetRequiredService<ServiceNowEmulatorStore>();

    /// <summary>
    /// A host whose sandbox holds no directory yet: no timer runs, no users are seeded and no first sync starts, so the
    /// benchmark stages exactly what it measures.
    /// </summary>
    public static Task<SandboxLocalHost> StartEmptyAsync(IEnumerable<string> settings, CancellationToken cancellationToken) =>
        StartAsync(["--LocalHost:RunTimers=false", "--Sandbox:Seed:Users=0", "--Sandbox:Seed:InitialSync=false", .. settings], cancellationToken);

    /// <param name="settings">Command-line settings (<c>--Key=value</c>) beside the URL, folder and log levels; later ones win.</param>
    public static async Task<SandboxLocalHost> StartAsync(IEnumerable<string> settings, CancellationToken cancellationToken)
    {
        var dataPath = BenchFolder.New("local-host");
        var app = LocalHostApp.Build(
        [
            $"--LocalHost:Url=http://127.0.0.1:{Intake.IntakeBenchmark.FreePort()}", $"--LocalHost:DataPath={dataPath}",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
            .. settings,
        ]);
        var host = new SandboxLocalHost(app, dataPath);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        BenchFolder.Delete(_dataPath);
    }
}
