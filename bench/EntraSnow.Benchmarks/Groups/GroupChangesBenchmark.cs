using System.Globalization;
using EntraSnow.Benchmarks.Hosting;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Benchmarks.Groups;

/// <summary>
/// Membership changes to change records through the whole local host in sandbox mode (issue #9): a group created with
/// 5,000 members at once (one summary record above the cap, every membership mirrored), then 1,000 single changes to
/// 20 groups, each notified as Graph would. Reports change records per second, ServiceNow calls per change record (the
/// change_request table alone, and every table including the memberships mirrored), Graph requests and peak RSS.
/// </summary>
internal sealed class GroupChangesBenchmark : IBenchmark
{
    public string Name => "group-changes";

    public string Description => "group membership changes -> change records through the local host: a group created with 5,000 members, then 1,000 single changes";

    public IReadOnlyList<BenchmarkOption> Options { get; } =
        [BenchmarkOption.Number("--members", 5_000), BenchmarkOption.Number("--changes", 1_000), BenchmarkOption.Number("--groups", 20)];

    public async Task<int> RunAsync(BenchmarkArguments arguments, CancellationToken cancellationToken)
    {
        var members = arguments.Number("--members");
        var changes = arguments.Number("--changes");
        var groups = arguments.Number("--groups");
        var load = await LoadAverage.NowAsync(cancellationToken);
        await using var bench = await GroupBench.StartAsync([], cancellationToken);
        var users = bench.Graph.Seed(new GraphSeedSpec { Users = members + changes, Groups = 0, RiskDetections = 0 }).UserIds;
        bench.ProvisionUsers(users);
        var teams = new List<string>();
        for (var i = 0; i < groups; i++)
        {
            teams.Add(await bench.Graph.CreateGroupAsync($"Bench Team {i:00}", cancellationToken));
        }

        var baseline = await bench.MeasureAsync("baseline: the groups read from scratch", () => bench.ReadFromScratchAsync(cancellationToken), cancellationToken);
        var hasBaseline = await bench.HasBaselineAsync(cancellationToken);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"group-changes: {users.Count:N0} users provisioned, {groups} groups, {Environment.ProcessorCount} cores shared with other work, load average {load} at the start; " +
            $"baseline set: {hasBaseline} in {baseline.Wall.TotalSeconds:F1} s"));

        var bulk = await bench.MeasureAsync($"a group created with {members:N0} members", async () =>
        {
            var bulkGroup = await bench.Graph.CreateGroupAsync("Bench Everyone", cancellationToken);
            foreach (var userId in users.Take(members))
            {
                await bench.Graph.AddGroupMemberAsync(bulkGroup, userId, cancellationToken);
            }

            await bench.NotifyAsync(bulkGroup, cancellationToken);
        }, cancellationToken);

        // Each change is made, then notified, as Graph notifies a change seconds after it: runs take whatever changes have been made by then.
        var singles = await bench.MeasureAsync($"{changes:N0} single changes to {groups} groups", async () =>
        {
            for (var i = 0; i < changes; i++)
            {
                var team = teams[i % teams.Count];
                await bench.Graph.AddGroupMemberAsync(team, users[members + i], cancellationToken);
                await bench.NotifyAsync(team, cancellationToken);
            }
        }, cancellationToken);

        Console.WriteLine();
        Console.WriteLine(GroupRound.Header);
        Console.WriteLine(bulk.Row());
        Console.WriteLine(singles.Row());
        Console.WriteLine();
        var records = bench.ServiceNow.Query(GroupBench.ChangeTable, $"correlation_idSTARTSWITH{GroupBench.CorrelationPrefix}");
        var memberships = bench.ServiceNow.Query("sys_user_grmember", string.Empty).Count;
        var summaries = records.Count(r => r["correlation_id"].Contains(":bulk:", StringComparison.Ordinal));
        var perRecord = singles.ChangeRecords == 0 ? double.NaN : singles.ChangeRequestCalls / (double)singles.ChangeRecords;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"change records: {records.Count:N0} ({summaries} summaries); memberships in ServiceNow: {memberships:N0} (expected {members + changes:N0}); " +
            $"change_request calls per record for single changes: {perRecord:F2} (target ≤ 1.1)"));
        var complete = singles.ChangeRecords == changes && memberships == members + changes && bulk.ChangeRecords >= 1 && bulk.ChangeRecords <= members / 100 + 1;
        Console.WriteLine(complete ? "result: every change recorded once, the bulk change summarised" : "result: a change is missing or recorded twice");
        return complete ? 0 : 1;
    }
}
