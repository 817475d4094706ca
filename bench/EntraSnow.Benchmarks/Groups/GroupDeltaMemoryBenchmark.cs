using System.Globalization;
using EntraSnow.Benchmarks.Hosting;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Benchmarks.Groups;

/// <summary>
/// The peak memory of a from-scratch groups delta (issue #9: "report peak RSS for 500 groups × 5,000 members"): N groups
/// of the same 5,000 provisioned users read from scratch through the local host, first as the baseline (every membership
/// written to ServiceNow), then again with nothing changed. The emulators live in the process and hold every
/// membership, so the second reading's growth over its starting RSS is EntraSnow's own working set; run it at two
/// sizes to see whether it grows with the number of groups.
/// </summary>
internal sealed class GroupDeltaMemoryBenchmark : IBenchmark
{
    public string Name => "group-delta-memory";

    public string Description => "peak RSS of a from-scratch groups delta of N groups x 5,000 members through the local host";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--groups", 500), BenchmarkOption.Number("--members", 5_000)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var groups = arguments.Number("--groups");
        var members = arguments.Number("--members");
        var load = await LoadAverage.NowAsync(cancellationToken);
        await using var bench = await GroupBench.StartAsync([], cancellationToken);
        var seeded = bench.Graph.Seed(new GraphSeedSpec { Users = members, Groups = groups, GroupsPerUser = groups, RiskDetections = 0 });
        bench.ProvisionUsers(seeded.UserIds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"group-delta-memory: {groups:N0} groups x {members:N0} members ({seeded.Memberships:N0} memberships), {Environment.ProcessorCount} cores shared with other work, load average {load} at the start"));

        var first = await bench.MeasureAsync("from scratch, first reading (baseline, every membership written)", () => bench.ReadFromScratchAsync(cancellationToken), cancellationToken);
        var again = await bench.MeasureAsync("from scratch again, nothing changed", () => bench.ReadFromScratchAsync(cancellationToken), cancellationToken);

        Console.WriteLine();
        Console.WriteLine(GroupRound.Header);
        Console.WriteLine(first.Row());
        Console.WriteLine(again.Row());
        var memberships = bench.ServiceNow.Query("sys_user_grmember", string.Empty).Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memberships in ServiceNow: {memberships:N0} of {seeded.Memberships:N0}; growth over the starting RSS: first reading {PeakRss.MiB(first.PeakBytes - first.BaselineBytes)}, " +
            $"second {PeakRss.MiB(again.PeakBytes - again.BaselineBytes)}"));
        return memberships == seeded.Memberships && again.ServiceNowWrites == 0 ? 0 : 1;
    }
}
