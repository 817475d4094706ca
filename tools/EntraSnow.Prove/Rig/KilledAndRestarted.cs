using System.Diagnostics;

namespace EntraSnow.Prove.Rig;

/// <summary>
/// A SIGKILL of the local host and its immediate restart on the same data folder and port, timed: until the new process
/// answers, and until it writes to ServiceNow again (the dead process's locked messages freed and taken up).
/// </summary>
internal sealed class KilledAndRestarted(Stage stage)
{
    private readonly Stopwatch _sinceKill = new();
    private Task<TimeSpan?> _resumed = Task.FromResult<TimeSpan?>(null);

    public int KilledProcessId { get; private set; }

    /// <summary>From the kill until the new host answered /api/health.</summary>
    public TimeSpan Healthy { get; private set; }

    public TimeSpan SinceKill => _sinceKill.Elapsed;

    public async Task<ChildLocalHost> KillAndStartAgainAsync(ChildLocalHost host, IReadOnlyDictionary<string, string?> settings, string folder, string log)
    {
        KilledProcessId = host.ProcessId;
        await host.KillAsync();
        _sinceKill.Start();
        _resumed = WatchAsync();
        await host.DisposeAsync();
        var restarted = await ChildLocalHost.StartAsync(settings, folder, log);
        Healthy = _sinceKill.Elapsed;
        return restarted;
    }

    /// <summary>From the kill until ServiceNow saw a write from the restarted host; null if none came within a minute.</summary>
    public Task<TimeSpan?> WaitUntilResumedAsync() => _resumed;

    private async Task<TimeSpan?> WatchAsync()
    {
        // Requests the dead process had fully sent may still finish in the emulator; a new process takes over a second to start.
        await Task.Delay(250);
        var writesAtKill = stage.ServiceNow.Counters.Writes();
        while (_sinceKill.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (stage.ServiceNow.Counters.Writes() > writesAtKill)
            {
                return _sinceKill.Elapsed;
            }

            await Task.Delay(10);
        }

        return null;
    }
}
