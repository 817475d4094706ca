using System.Diagnostics;
using System.Globalization;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.InactiveSweep;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Stores;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Benchmarks.Sweep;

/// <summary>
/// A full inactive-account sweep of N seeded users (default 100,000) from the Graph emulator into the ServiceNow
/// emulator, over loopback HTTP with the real connectors and flow, then a second run in the same cycle. Reports wall
/// time, Graph calls split into directory pages and per-account review details, ServiceNow calls per task created,
/// per-page latency percentiles and the process's peak resident memory during the run (the emulators share the process).
/// </summary>
internal sealed class InactiveSweepBenchmark : IBenchmark
{
    public string Name => "inactive-sweep";

    public string Description => "full inactive-account sweep of 100,000 seeded users into the ServiceNow emulator, then a second run";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--users", 100_000)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var users = arguments.Number("--users");
        var data = Path.Combine(Path.GetTempPath(), "entrasnow-bench-sweep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        await using var graph = await GraphEmulatorServer.StartAsync(cancellationToken: cancellationToken);
        await using var serviceNow = await ServiceNowEmulatorServer.StartAsync(seed: true, cancellationToken: cancellationToken);
        var seedWatch = Stopwatch.StartNew();
        var seeded = graph.Seed(new GraphSeedSpec { Users = users, Groups = Math.Max(users / 200, 1), GroupsPerUser = 2, RiskDetections = 0 });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeded {seeded.UserIds.Count:N0} users, {seeded.GroupIds.Count:N0} groups, {seeded.Memberships:N0} memberships in {seedWatch.Elapsed.TotalSeconds:F1} s"));

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(
            graph.ConnectorSettings.Concat(serviceNow.ConnectorSettings).Concat(new Dictionary<string, string?>
            {
                ["InactiveSweep:Enabled"] = "true",
                ["InactiveSweep:AssignmentGroup"] = "Identity and Access Management",
            })).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddGraphConnector(configuration);
        services.AddServiceNowConnector(configuration);
        services.AddInactiveSweep(configuration);
        services.AddSingleton<ICheckpointStore>(new SqliteCheckpointStore(Path.Combine(data, "checkpoints.db")));
        await using var provider = services.BuildServiceProvider();
        var runner = provider.GetRequiredService<InactiveSweepRunner>();
        var graphCalls = provider.GetRequiredService<GraphCallCounter>();
        var serviceNowCalls = provider.GetRequiredService<ServiceNowCallCounter>();

        try
        {
            var first = await MeasureAsync(runner, graphCalls, serviceNowCalls, cancellationToken);
            var second = await MeasureAsync(runner, graphCalls, serviceNowCalls, cancellationToken);
            var tasks = serviceNow.Store.Query("sc_task", "correlation_idSTARTSWITHentra-inactive:").Count;

            var inv = CultureInfo.InvariantCulture;
            Console.WriteLine();
            Console.WriteLine("| run | wall time | CPU time (whole process) | pages | candidates | tasks created | Graph calls (directory pages / the rest: review details, SKUs) | ServiceNow calls per task created | ServiceNow writes | page p50 / p95 / p99 ms | peak RSS (baseline) |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
            Console.WriteLine(first.Row("full sweep", inv));
            Console.WriteLine(second.Row("second run, same cycle", inv));
            Console.WriteLine();
            var directoryTarget = users / 500.0;
            Console.WriteLine(string.Create(inv, $"users {users:N0}; reviewed {first.Report.Raised:N0} ({100.0 * first.Report.Raised / users:F1} %); tasks in ServiceNow {tasks:N0}"));
            Console.WriteLine(string.Create(inv, $"Graph directory pages {first.Report.Pages} = users/500 ({directoryTarget:N0}) + {first.Report.Pages - directoryTarget:N0}; all Graph calls {first.GraphCalls:N0} = users/500 + {first.GraphCalls - directoryTarget:N0} = users/{users / (double)first.GraphCalls:N0}"));
            Console.WriteLine(string.Create(inv, $"Graph calls besides directory pages (review details, SKU names) {first.GraphCalls - first.Report.Pages:N0} = {(first.GraphCalls - first.Report.Pages) / (double)Math.Max(first.Report.Raised, 1):F4} per account raised; all Graph calls per account raised {first.GraphCalls / (double)Math.Max(first.Report.Raised, 1):F4}"));
            Console.WriteLine(string.Create(inv, $"ServiceNow calls per task created {first.ServiceNowPerTask:F3} (target ≤ 1.1); wall time {first.Elapsed.TotalSeconds:F1} s (target < 60 s)"));
            var ok = first.Elapsed < TimeSpan.FromSeconds(60) && first.ServiceNowPerTask <= 1.1 && second.ServiceNowWrites == 0 && tasks == first.Report.Raised;
            Console.WriteLine(ok ? "result: wall time, ServiceNow calls and idempotence targets met" : "result: a target was missed");
            return ok ? 0 : 1;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<Measurement> MeasureAsync(InactiveSweepRunner runner, GraphCallCounter graphCalls, ServiceNowCallCounter serviceNowCalls, CancellationToken cancellationToken)
    {
        graphCalls.Reset();
        serviceNowCalls.Reset();
        using var process = Process.GetCurrentProcess();
        GC.Collect();
        process.Refresh();
        var baseline = process.WorkingSet64;
        var cpuBefore = process.TotalProcessorTime;
        var peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            using var self = Process.GetCurrentProcess();
            while (!sampling.IsCancellationRequested)
            {
                self.Refresh();
                peak = Math.Max(peak, self.WorkingSet64);
                try
                {
                    await Task.Delay(20, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }, CancellationToken.None);

        var pageTimes = new List<double>();
        var pageWatch = Stopwatch.StartNew();
        var watch = Stopwatch.StartNew();
        var report = await runner.RunAsync(new SweepRunRequest
        {
            OnProgress = _ =>
            {
                pageTimes.Add(pageWatch.Elapsed.TotalMilliseconds);
                pageWatch.Restart();
            },
        }, cancellationToken);
        watch.Stop();
        await sampling.CancelAsync();
        await sampler;
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        pageTimes.Sort();
        return new Measurement(report, watch.Elapsed, cpu, graphCalls.Requests, serviceNowCalls.Total, serviceNowCalls.Writes, pageTimes, peak, baseline);
    }

    private sealed record Measurement(SweepReport Report, TimeSpan Elapsed, TimeSpan Cpu, long GraphCalls, long ServiceNowCalls, long ServiceNowWrites, List<double> PageTimes, long PeakRss, long BaselineRss)
    {
        public double ServiceNowPerTask => Report.Raised == 0 ? 0 : ServiceNowCalls / (double)Report.Raised;

        public string Row(string name, IFormatProvider inv) => string.Create(inv,
            $"| {name} | {Elapsed.TotalSeconds:F1} s | {Cpu.TotalSeconds:F1} s | {Report.Pages:N0} | {Report.Candidates:N0} | {Report.Raised:N0} | {GraphCalls:N0} ({Report.Pages:N0} / {GraphCalls - Report.Pages:N0}) | " +
            $"{(Report.Raised == 0 ? $"{ServiceNowCalls:N0} calls, none created" : ServiceNowPerTask.ToString("F3", inv))} | {ServiceNowWrites:N0} | " +
            $"{Percentile(0.50):F0} / {Percentile(0.95):F0} / {Percentile(0.99):F0} | {PeakRss / 1048576.0:N0} MiB ({BaselineRss / 1048576.0:N0} MiB) |");

        private double Percentile(double p) => PageTimes.Count == 0 ? 0 : PageTimes[Math.Min(PageTimes.Count - 1, (int)Math.Ceiling(p * PageTimes.Count) - 1)];
    }
}
