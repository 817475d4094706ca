using System.Diagnostics;
using System.Globalization;
using EntraSnow.Benchmarks.Hosting;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.FullSync.DryRun;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;

namespace EntraSnow.Benchmarks.Provisioning;

/// <summary>
/// Switching over an instance that already has its people: the ServiceNow emulator holds a sys_user for every seeded
/// Graph user (matched by user_name, no object ids, as the Entra provisioning service leaves them); a full sync over
/// loopback HTTP with the real connectors and flows adopts them, then a second sync runs with nothing changed.
/// Reports ServiceNow calls per adopted user (every table, and sys_user alone) and the second sync's writes.
/// </summary>
internal sealed class AdoptionBenchmark : IBenchmark
{
    public string Name => "adoption";

    public string Description => "sync --dry-run, then a full sync, over 10,000 existing sys_user records (no object ids): dry-run time and writes, adopted, created, ServiceNow calls per adopted user, second sync's writes (--latency-ms is the dry run's)";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--users", 10_000), BenchmarkOption.Number("--workers", 16), BenchmarkOption.Switch("--dry-run-only"), BenchmarkOption.Number("--latency-ms", 0, minimum: 0)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var users = arguments.Number("--users");
        var workers = arguments.Number("--workers");
        await using var flows = await FlowsOverEmulators.StartAsync(workers, cancellationToken);
        var (graph, serviceNow, provider) = (flows.Graph, flows.ServiceNow, flows.Services);
        var seeded = graph.Seed(new GraphSeedSpec { Users = users, Groups = 0, RiskDetections = 0 });
        foreach (var id in seeded.UserIds)
        {
            var user = graph.Emulator.GetUser(id)!;
            serviceNow.Store.Insert("sys_user", new Dictionary<string, string>
            {
                ["user_name"] = user["userPrincipalName"]!.GetValue<string>(),
                ["email"] = user["mail"]?.GetValue<string>() ?? string.Empty,
                ["first_name"] = "Existing",
            });
        }

        Console.WriteLine($"seeded {seeded.UserIds.Count} Graph users and as many sys_user records matching by user_name, none with an object id");
        var sync = provider.GetRequiredService<FullSyncRunner>();

        // What `sync --dry-run` does, before anything is adopted: the same code over ports that hold writes back. With
        // --latency-ms every ServiceNow answer of the dry run waits that long, as a real instance's would.
        var latency = arguments.Number("--latency-ms");
        serviceNow.Faults.Latency = TimeSpan.FromMilliseconds(latency);
        serviceNow.Counters.Reset();
        var dryWatch = Stopwatch.StartNew();
        var dryRun = await provider.GetRequiredService<SyncDryRun>().RunAsync(cancellationToken: cancellationToken);
        dryWatch.Stop();
        var dryWrites = serviceNow.Counters.Writes();
        var dryCalls = serviceNow.Counters.Reads() + dryWrites;
        serviceNow.Faults.Latency = TimeSpan.Zero;
        Console.WriteLine($"dry run: {dryWatch.Elapsed.TotalSeconds:F1} s ({latency} ms a ServiceNow answer); would adopt {dryRun.Summary.Users.Adopted}, create {dryRun.Summary.Users.Created}; " +
            $"{dryRun.WritesHeldBack} writes held back, {dryWrites} written; {dryCalls} ServiceNow calls");
        if (arguments.Switch("--dry-run-only"))
        {
            return dryWrites == 0 && dryWatch.Elapsed < TimeSpan.FromSeconds(10) ? 0 : 1;
        }

        var first = await MeasureAsync("adopting sync", sync, serviceNow, cancellationToken);
        var second = await MeasureAsync("second sync, nothing changed", sync, serviceNow, cancellationToken);
        var perAdopted = first.Adopted == 0 ? double.PositiveInfinity : (double)first.Calls / first.Adopted;
        var sysUserPerAdopted = first.Adopted == 0 ? double.PositiveInfinity : (double)first.SysUserCalls / first.Adopted;

        Console.WriteLine();
        Console.WriteLine("| run | wall time | adopted | created | conflicts | ServiceNow calls (user phase) | calls / adopted user | sys_user calls / adopted user | ServiceNow writes |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in new[] { first, second })
        {
            Console.WriteLine($"| {r.Label} | {r.Wall.TotalSeconds:F1} s | {r.Adopted} | {r.Created} | {r.Conflicts} | {r.Calls} | " +
                $"{(r.Adopted == 0 ? "-" : ((double)r.Calls / r.Adopted).ToString("F3", CultureInfo.InvariantCulture))} | " +
                $"{(r.Adopted == 0 ? "-" : ((double)r.SysUserCalls / r.Adopted).ToString("F3", CultureInfo.InvariantCulture))} | {r.Writes} |");
        }

        Console.WriteLine($"| dry run (sync --dry-run) | {dryWatch.Elapsed.TotalSeconds:F1} s | {dryRun.Summary.Users.Adopted} (would) | {dryRun.Summary.Users.Created} (would) | " +
            $"{dryRun.Summary.Users.Conflicts} | {dryCalls} | - | - | {dryWrites} |");

        var dryRunMet = dryWrites == 0 && dryRun.Summary.Users.Adopted == first.Adopted && dryWatch.Elapsed < TimeSpan.FromSeconds(10);
        var met = first.Adopted == users && first.Created == 0 && perAdopted <= 1.1 && second.Writes == 0 && dryRunMet;
        Console.WriteLine($"dry run: no writes, the same adoptions as the sync, under 10 s -> {(dryRunMet ? "met" : "MISSED")} " +
            $"({dryWrites} writes, {dryRun.Summary.Users.Adopted} vs {first.Adopted} adopted, {dryWatch.Elapsed.TotalSeconds:F1} s)");
        Console.WriteLine($"targets: {users} adopted, none created -> {(first.Adopted == users && first.Created == 0 ? "met" : "MISSED")}; " +
            $"<= 1.1 ServiceNow calls per adopted user ({perAdopted:F3}; sys_user alone {sysUserPerAdopted:F3}) -> {(perAdopted <= 1.1 ? "met" : "MISSED")}; " +
            $"second sync writes nothing -> {(second.Writes == 0 ? "met" : "MISSED")}");
        return met ? 0 : 1;
    }

    /// <summary>One full sync from scratch; ServiceNow calls are the emulator's counts of the user phase (before groups).</summary>
    private static async Task<Figures> MeasureAsync(string label, FullSyncRunner sync, ServiceNowEmulatorServer emulator, CancellationToken cancellationToken)
    {
        emulator.Counters.Reset();
        (long All, long SysUser)? userPhase = null;
        var watch = Stopwatch.StartNew();
        var final = await sync.RunAsync(new Progress(p =>
        {
            if (p.Phase == SyncPhase.ProvisioningGroups && userPhase is null)
            {
                userPhase = (emulator.Counters.Reads() + emulator.Counters.Writes(), emulator.Counters.Reads("sys_user") + emulator.Counters.Writes("sys_user"));
            }
        }), fromScratch: true, cancellationToken);
        watch.Stop();
        var (all, sysUser) = userPhase ?? (emulator.Counters.Reads() + emulator.Counters.Writes(), emulator.Counters.Reads("sys_user") + emulator.Counters.Writes("sys_user"));
        var u = final.Summary.Users;
        Console.WriteLine($"{label}: {watch.Elapsed.TotalSeconds:F1} s; {u.Adopted} adopted, {u.Created} created, {u.Updated} updated, {u.Unchanged} unchanged, {u.Conflicts} conflicts, {u.Failed} failed{(final.TimedOut ? "; TIMED OUT" : string.Empty)}");
        return new Figures(label, watch.Elapsed, u.Adopted, u.Created, u.Conflicts, all, sysUser, emulator.Counters.Writes());
    }

    private sealed record Figures(string Label, TimeSpan Wall, int Adopted, int Created, int Conflicts, long Calls, long SysUserCalls, long Writes);

    private sealed class Progress(Action<SyncProgress> report) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value) => report(value);
    }
}
