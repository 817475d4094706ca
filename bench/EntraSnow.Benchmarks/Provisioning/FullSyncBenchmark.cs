using System.Diagnostics;
using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Benchmarks.Hosting;
using EntraSnow.Flows.FullSync;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Benchmarks.Provisioning;

/// <summary>
/// A full sync and a resync with nothing changed, as the <c>provisioning</c> benchmark runs them (real connectors and
/// flows, consumers paced by the ServiceNow budget), against emulators in a child process that answer ServiceNow after
/// <c>--latency-ms</c>. Reports wall time against the bound the connector's concurrency sets (ServiceNow calls ×
/// latency ÷ calls in flight), calls per object on each side, and the peak RSS of the sync's own process.
/// </summary>
internal sealed class FullSyncBenchmark : IBenchmark
{
    public string Name => "fullsync";

    public string Description => "full sync and resync against emulators in a child process: wall time against the concurrency bound, calls per object, peak RSS";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--users", 10_000), BenchmarkOption.Number("--groups", 500, minimum: 0), BenchmarkOption.Number("--latency-ms", 0, minimum: 0), BenchmarkOption.Number("--workers", 16)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var latencyMs = arguments.Number("--latency-ms");
        var workers = arguments.Number("--workers");
        var data = BenchFolder.New("fullsync");

        var seedWatch = Stopwatch.StartNew();
        await using var emulators = await SeparateEmulators.StartAsync(arguments.Number("--users"), arguments.Number("--groups"), latencyMs, cancellationToken);
        var objects = emulators.Users + emulators.Groups + emulators.Memberships;
        Console.WriteLine($"emulators (child process, ServiceNow latency {latencyMs} ms): {emulators.Users} users, {emulators.Groups} groups, " +
            $"{emulators.Memberships} memberships seeded in {seedWatch.Elapsed.TotalSeconds:F1} s; load average {LoadAverage.OverTheLastMinutes()}");

        var queue = new ConcurrentSessionQueue();
        await using var provider = FlowsOverEmulators.Compose(emulators.Settings, workers, queue, data);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var consumers = queue.RunConsumersAsync(provider, workers, stop.Token);
        var sync = provider.GetRequiredService<FullSyncRunner>();
        var serviceNow = provider.GetRequiredService<ServiceNowCallCounter>();
        var graph = provider.GetRequiredService<GraphCallCounter>();
        await using var rss = PeakRss.Start();

        try
        {
            var runs = new List<RunFigures>();
            foreach (var label in new[] { "initial full sync", "resync, nothing changed" })
            {
                serviceNow.Reset();
                graph.Reset();
                var watch = Stopwatch.StartNew();
                var final = await sync.RunAsync(new Progress(label, watch), fromScratch: true, cancellationToken);
                watch.Stop();
                var (u, g) = (final.Summary.Users, final.Summary.Groups);
                Console.WriteLine($"{label}: {watch.Elapsed.TotalSeconds:F1} s; users {u.Created} created, {u.Unchanged} unchanged, {u.Updated} updated, {u.Failed} failed; " +
                    $"groups {g.Created} created, {g.Unchanged} unchanged, {g.Updated} updated, {g.Failed} failed{(final.TimedOut ? "; TIMED OUT" : string.Empty)}");
                runs.Add(new RunFigures(label, watch.Elapsed, serviceNow.Reads, serviceNow.Writes, graph.Requests, rss.Peak, LoadAverage.OverTheLastMinutes()));
            }

            var bound = (RunFigures r) => TimeSpan.FromMilliseconds((double)(r.Reads + r.Writes) * latencyMs / workers);
            Console.WriteLine();
            Console.WriteLine($"{emulators.Users:N0} users / {emulators.Groups:N0} groups / {emulators.Memberships:N0} memberships, ServiceNow at {latencyMs} ms, {workers} calls in flight; " +
                $"peak RSS before the runs {PeakRss.MiB(rss.Baseline)}, emulators' process {(emulators.PeakRss is { } child ? PeakRss.MiB(child) : "n/a")}");
            Console.WriteLine("| run | wall time | concurrency bound | ratio | ServiceNow calls (reads / writes) | per object | per user | Graph calls | per object | per user | peak RSS | load average (1, 5, 15 min) |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            foreach (var r in runs)
            {
                var calls = r.Reads + r.Writes;
                var ratio = latencyMs == 0 ? "n/a" : (r.Wall / bound(r)).ToString("F2", CultureInfo.InvariantCulture);
                Console.WriteLine($"| {r.Label} | {r.Wall.TotalSeconds:F1} s | {bound(r).TotalSeconds:F1} s | {ratio} | {calls:N0} ({r.Reads:N0} / {r.Writes:N0}) | " +
                    $"{(double)calls / objects:F4} | {(double)calls / emulators.Users:F4} | {r.Graph:N0} | {(double)r.Graph / objects:F4} | {(double)r.Graph / emulators.Users:F4} | " +
                    $"{PeakRss.MiB(r.PeakRss)} | {r.Load} |");
            }

            return 0;
        }
        finally
        {
            await stop.CancelAsync();
            await consumers;
            BenchFolder.Delete(data);
        }
    }

    private sealed record RunFigures(string Label, TimeSpan Wall, long Reads, long Writes, long Graph, long PeakRss, string Load);

    /// <summary>A progress line every few seconds (the output is usually redirected).</summary>
    private sealed class Progress(string label, Stopwatch watch) : IProgress<SyncProgress>
    {
        private TimeSpan _last;

        public void Report(SyncProgress value)
        {
            if (watch.Elapsed - _last > TimeSpan.FromSeconds(5))
            {
                _last = watch.Elapsed;
                Console.WriteLine($"  {label}: {value.Phase} {value.UsersDone}/{value.UsersQueued} users, {watch.Elapsed.TotalSeconds:F0} s, load average {LoadAverage.OverTheLastMinutes()}");
            }
        }
    }
}
