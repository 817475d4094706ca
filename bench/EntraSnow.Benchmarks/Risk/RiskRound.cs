using System.Diagnostics;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Benchmarks.Risk;

/// <summary>What one poll-and-drain round measured.</summary>
internal sealed record RiskRoundResult(
    string Label, int Detections, int Written, int IncidentsOpened, TimeSpan Wall, TimeSpan Bound, TimeSpan AfterLastPage, TimeSpan Cpu, long ServiceNowCalls,
    int GraphServed, int GraphRefused, int MostGraphRequestsInOneSecond, double[] LatenciesMs)
{
    public double Percentile(double p) => LatenciesMs.Length == 0
        ? double.NaN
        : LatenciesMs[Math.Clamp((int)Math.Ceiling(p / 100 * LatenciesMs.Length) - 1, 0, LatenciesMs.Length - 1)];
}

/// <summary>
/// One round: stage changes in the Graph emulator (each detection's clock starts when it is staged), run the risk poll
/// as its timer would, wait until the risk-detections queue is drained, and read the counters of both emulators.
/// </summary>
internal sealed class RiskRound(IServiceProvider services, IncidentWriteWatch watch)
{
    private readonly Dictionary<(string, string), long> _stagedAt = [];

    private GraphEmulator Graph => services.GetRequiredService<GraphEmulator>();

    /// <summary>Runs <paramref name="stage"/> and notes when each (detection, state) it returns came to be.</summary>
    public IReadOnlyList<(string Id, string State)> Stage(Func<IReadOnlyList<(string Id, string State)>> stage)
    {
        var staged = stage();
        var now = Stopwatch.GetTimestamp();
        foreach (var key in staged)
        {
            _stagedAt[key] = now;
        }

        return staged;
    }

    public async Task<RiskRoundResult> RunAsync(string label, IReadOnlyList<(string Id, string State)> expected, CancellationToken cancellationToken)
    {
        var counters = services.GetRequiredService<ServiceNowEmulatorCounters>();
        var incidentsBefore = counters.Served("POST", "incident");
        var callsBefore = counters.Reads() + counters.Writes();
        var graphBefore = Graph.IdentityProtection.Requests.Count;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();

        await services.GetServices<IScheduledJob>().RunAsync(JobNames.RiskPoll, cancellationToken);
        await DrainAsync(cancellationToken);
        var wall = Stopwatch.GetElapsedTime(started);
        var drainedAt = DateTimeOffset.UtcNow;
        // CPU time of the whole process (host, both emulators, this loop): on a shared machine it says more than the wall time.
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        var requests = Graph.IdentityProtection.Requests.Skip(graphBefore).ToList();
        var times = requests.Select(r => r.At).ToList();
        var mostInOneSecond = times.Count == 0 ? 0 : times.Max(t => times.Count(u => u >= t && u - t < TimeSpan.FromSeconds(1)));
        // The pacing bound: a page every second, so n pages cannot take less than n - 1 seconds.
        var pages = requests.Count(r => r.Served);
        var latencies = expected.Select(e => watch.WrittenAt(e.Id, e.State) is { } at ? Stopwatch.GetElapsedTime(_stagedAt[e], at).TotalMilliseconds : double.NaN)
            .Where(ms => !double.IsNaN(ms)).Order().ToArray();
        return new RiskRoundResult(label, expected.Count, latencies.Length, (int)(counters.Served("POST", "incident") - incidentsBefore), wall,
            TimeSpan.FromSeconds(Math.Max(0, pages - 1)), times.Count == 0 ? TimeSpan.Zero : drainedAt - times[^1], cpu, counters.Reads() + counters.Writes() - callsBefore,
            pages, requests.Count - pages, mostInOneSecond, latencies);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        var queues = services.GetRequiredService<SqliteQueueStore>();
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var stats = (await queues.GetStatsAsync(cancellationToken)).Single(s => s.Queue == QueueNames.RiskDetections);
            if (stats.Depth == 0 && stats.InFlight == 0 && stats.Scheduled == 0)
            {
                return;
            }

            if (waited.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"risk-detections still holds {stats.Depth} queued, {stats.InFlight} in flight after 3 minutes");
            }

            await Task.Delay(5, cancellationToken);
        }
    }
}
