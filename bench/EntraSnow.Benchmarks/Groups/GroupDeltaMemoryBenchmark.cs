using System.Diagnostics;
using System.Globalization;
using EntraSnow.Benchmarks.Hosting;
using EntraSnow.Benchmarks.Provisioning;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Benchmarks.Groups;

/// <summary>
/// The peak memory of a from-scratch groups delta (issue #9: "report peak RSS for 500 groups × 5,000 members"): N groups
/// of the same M users, read from scratch through the local host. The emulators run in a child process and ServiceNow
/// already holds every user, group and membership as EntraSnow writes them (<see cref="MirroredTenant"/>), so the
/// memory measured is the local host's alone and no reading waits for millions of membership writes. The first
/// reading is the change records' baseline (the ledger takes every membership); the later ones compare and find
/// nothing to change. Run it at a few sizes: the peak should not grow with the number of groups.
/// </summary>
internal sealed class GroupDeltaMemoryBenchmark : IBenchmark
{
    public string Name => "group-delta-memory";

    public string Description => "peak RSS of from-scratch groups deltas of N groups x M members through the local host, over a mirrored tenant";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--groups", 500), BenchmarkOption.Number("--members", 5_000), BenchmarkOption.Number("--readings", 2, minimum: 2)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var groups = arguments.Number("--groups");
        var members = arguments.Number("--members");
        var readings = arguments.Number("--readings");
        var seeding = Stopwatch.StartNew();
        await using var emulators = await SeparateEmulators.StartAsync(members, groups, latencyMs: 0, cancellationToken, groupsPerUser: groups, mirrored: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"group-delta-memory: {emulators.Groups:N0} groups x {members:N0} members ({emulators.Memberships:N0} memberships, mirrored in ServiceNow), emulators in a child process " +
            $"seeded in {seeding.Elapsed.TotalSeconds:F0} s; {Environment.ProcessorCount} cores shared with other work, load average {LoadAverage.OverTheLastMinutes()}"));

        await using var host = await SandboxLocalHost.StartAsync(
        [
            // Against the child's emulators: no sandbox, and no subscription is made (timers off), but the settings must hold.
            "--LocalHost:RunTimers=false", "--Graph:ClientState=group-delta-memory", "--Subscriptions:NotificationUrl=http://127.0.0.1/api/graph/notifications",
            "--Subscriptions:LifecycleNotificationUrl=http://127.0.0.1/api/graph/lifecycle", "--ServiceNowWebhook:SigningSecret=group-delta-memory-benchmark-signing-secret",
            .. emulators.Settings.Select(s => $"--{s.Key}={s.Value}"),
        ], cancellationToken);
        var bench = new GroupBench(host);
        var serviceNow = host.Services.GetRequiredService<ServiceNowCallCounter>();
        var graph = host.Services.GetRequiredService<GraphCallCounter>();

        var rounds = new List<Reading>();
        for (var i = 0; i < readings; i++)
        {
            var label = i == 0 ? "first (the baseline: the ledger takes every membership)" : "again, nothing changed";
            serviceNow.Reset();
            graph.Reset();
            await using var rss = PeakRss.Start();
            var watch = Stopwatch.StartNew();
            await bench.ReadFromScratchAsync(cancellationToken);
            await bench.DrainAsync(cancellationToken);
            watch.Stop();
            rounds.Add(new Reading(label, watch.Elapsed, serviceNow.Reads, serviceNow.Writes, graph.Requests, rss.Peak, rss.Baseline, GC.GetTotalMemory(forceFullCollection: true),
                GC.GetGCMemoryInfo().TotalCommittedBytes, LoadAverage.OverTheLastMinutes()));
            Console.WriteLine(rounds[^1].Row());
        }

        Console.WriteLine();
        Console.WriteLine("| reading | wall | ServiceNow calls (reads / writes) | Graph requests | peak RSS (before) | growth | managed heap after a full collection (committed) | load average (1, 5, 15 min) |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- |");
        rounds.ForEach(r => Console.WriteLine(r.Row()));
        Console.WriteLine($"emulators' process peak RSS: {(emulators.PeakRss is { } child ? PeakRss.MiB(child) : "n/a")} (not counted above)");
        return rounds.All(r => r.Writes == 0) ? 0 : 1;
    }

    private sealed record Reading(string Label, TimeSpan Wall, long Reads, long Writes, long GraphRequests, long PeakBytes, long BaselineBytes, long HeapAfter, long CommittedAfter, string Load)
    {
        public string Row() => string.Create(CultureInfo.InvariantCulture,
            $"| {Label} | {Wall.TotalSeconds:F1} s | {Reads + Writes:N0} ({Reads:N0} / {Writes:N0}) | {GraphRequests:N0} | {PeakRss.MiB(PeakBytes)} ({PeakRss.MiB(BaselineBytes)}) | " +
            $"{PeakRss.MiB(PeakBytes - BaselineBytes)} | {PeakRss.MiB(HeapAfter)} ({PeakRss.MiB(CommittedAfter)}) | {Load} |");
    }
}
