using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EntraSnow.LocalHost.Tests.Provisioning;

/// <summary>
/// What a full sync costs the instance and Graph, counted by the emulators through the whole local host: the initial
/// sync about one write per user and Graph's delta pages, and a resync where nothing changed a read per chunk of users, groups and memberships,
/// with no write and no per-object call on either side.
/// </summary>
public sealed class FullSyncCallsEndToEndTests(ITestOutputHelper output)
{
    private const int Users = 900;

    private const int Groups = 200;

    private const int GroupsPerUser = 2;

    [Fact]
    public async Task A_resync_with_nothing_changed_costs_at_most_a_hundredth_of_a_call_per_user_on_each_side_and_writes_nothing()
    {
        await using var host = await StartSeededAsync(new GraphSeedSpec { Users = Users, Groups = 0, RiskDetections = 0 });
        var calls = new CallMeter(host);
        var counters = calls.ServiceNow;
        var first = await SyncWithFollowUpsAsync(host);
        var initial = (ServiceNow: counters.Reads() + counters.Writes(), Graph: calls.Graph, UserReads: calls.UserReads);
        output.WriteLine($"initial: {first.Summary.Users.Created} created; ServiceNow {initial.ServiceNow} calls ({(double)initial.ServiceNow / Users:F3} per user), Graph {initial.Graph} ({(double)initial.Graph / Users:F3} per user)");

        Assert.Equal(SyncPhase.Completed, first.Phase);
        Assert.Equal(Users, first.Summary.Users.Created);
        // An initial sync (BENCHMARKS.md): about one ServiceNow call per user created; Graph is read in delta pages only,
        // each user written as its page said it (no GET per user).
        Assert.True(initial.ServiceNow <= 1.2 * Users, $"{initial.ServiceNow} ServiceNow calls to create {Users} users");
        // A report handled beside its manager is patched by a follow-up, which reads the truth (one GET each); how many
        // depends on the consumers' timing, so the GETs are held to the follow-ups and the rest to the pages.
        var initialLog = await host.Services.GetRequiredService<IProvisioningLog>().GetByCorrelationAsync(first.RunId);
        var followUps = initialLog.Count - initialLog.Select(e => e.SubjectId).Distinct(StringComparer.OrdinalIgnoreCase).Count();
        output.WriteLine($"initial: {initial.UserReads} user GETs, {followUps} follow-ups");
        Assert.True(initial.UserReads <= followUps, $"{initial.UserReads} Graph user GETs for {followUps} follow-ups");
        Assert.True(initial.Graph - initial.UserReads <= 0.01 * Users, $"{initial.Graph - initial.UserReads} Graph calls besides the follow-ups' GETs to create {Users} users");

        calls.Reset();
        var second = await host.Services.GetRequiredService<FullSyncRunner>().RunAsync();
        var resync = (ServiceNow: counters.Reads() + counters.Writes(), Graph: calls.Graph);
        output.WriteLine($"resync: {second.Summary.Users.Unchanged} unchanged; ServiceNow {resync.ServiceNow} calls ({(double)resync.ServiceNow / Users:F4} per user: " +
            $"{string.Join(", ", counters.Snapshot().Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}"))}), Graph {resync.Graph} ({(double)resync.Graph / Users:F4} per user)");

        Assert.Equal(SyncPhase.Completed, second.Phase);
        Assert.Equal(Users, second.Summary.Users.Unchanged);
        Assert.Equal(0, counters.Writes());
        Assert.True(resync.ServiceNow <= 0.01 * Users, $"{resync.ServiceNow} ServiceNow calls to learn that {Users} users did not change");
        Assert.True(resync.Graph <= 0.01 * Users, $"{resync.Graph} Graph calls to learn that {Users} users did not change");
        var log = host.Services.GetRequiredService<IProvisioningLog>();
        Assert.All(await log.GetByCorrelationAsync(second.RunId), e => Assert.Equal(ProvisioningAction.Unchanged, e.Action));
    }

    [Fact]
    public async Task A_resync_of_groups_and_memberships_with_nothing_changed_costs_at_most_a_hundredth_of_a_call_per_group_and_per_membership_and_writes_nothing()
    {
        await using var host = await StartSeededAsync(new GraphSeedSpec { Users = Users, Groups = Groups, GroupsPerUser = GroupsPerUser, RiskDetections = 0 });
        const int memberships = Users * GroupsPerUser;
        var calls = new CallMeter(host);
        var counters = calls.ServiceNow;
        var first = await SyncWithFollowUpsAsync(host);
        output.WriteLine($"initial: {first.Summary.Users.Created} users and {first.Summary.Groups.Created} groups created; sys_user_group " +
            $"{counters.Reads("sys_user_group")} reads and {counters.Writes("sys_user_group")} writes, sys_user_grmember {counters.Reads("sys_user_grmember")} reads and " +
            $"{counters.Writes("sys_user_grmember")} writes; ServiceNow in all {counters.Reads() + counters.Writes()}, Graph {calls.Graph}");
        Assert.Equal(SyncPhase.Completed, first.Phase);
        Assert.Equal(Groups, first.Summary.Groups.Created + first.Summary.Groups.Adopted);
        Assert.Equal(memberships, counters.Served("POST", "sys_user_grmember"));

        calls.Reset();
        var second = await host.Services.GetRequiredService<FullSyncRunner>().RunAsync();
        var graphCalls = calls.Graph;
        var (groupReads, membershipReads) = (counters.Reads("sys_user_group"), counters.Reads("sys_user_grmember"));
        output.WriteLine($"resync: {second.Summary.Groups.Unchanged} groups unchanged; sys_user_group {groupReads} reads ({(double)groupReads / Groups:F4} per group), " +
            $"sys_user_grmember {membershipReads} ({(double)membershipReads / memberships:F4} per membership); ServiceNow in all: " +
            $"{string.Join(", ", counters.Snapshot().Where(p => p.Value > 0).Select(p => $"{p.Key}={p.Value}"))}; Graph {graphCalls} for {Users} users and {Groups} groups");

        Assert.Equal(SyncPhase.Completed, second.Phase);
        Assert.Equal(Groups, second.Summary.Groups.Unchanged);
        Assert.Equal(0, counters.Writes());
        Assert.True(groupReads <= 0.01 * Groups, $"{groupReads} sys_user_group reads to learn that {Groups} groups did not change");
        Assert.True(membershipReads <= 0.01 * memberships, $"{membershipReads} sys_user_grmember reads to learn that {memberships} memberships did not change");
        // The users' pages and the groups' pages, members included: a hundredth of a call per user and per group at most.
        Assert.True(graphCalls <= 0.01 * (Users + Groups), $"{graphCalls} Graph calls to learn that {Users} users and {Groups} groups did not change");
        var log = host.Services.GetRequiredService<IProvisioningLog>();
        Assert.All(await log.GetByCorrelationAsync(second.RunId), e => Assert.Equal(ProvisioningAction.Unchanged, e.Action));
    }

    /// <summary>A local host over emulators holding only <paramref name="spec"/>'s directory, with no sync run yet.</summary>
    private static async Task<LocalHostHarness> StartSeededAsync(GraphSeedSpec spec)
    {
        var host = await LocalHostHarness.StartEmptyAsync(new Dictionary<string, string?>
        {
            ["Provisioning:FollowUpDelay"] = "00:00:00",
            // As the adoption test: the figure is the sync's own cost, not the follow-ups of reports handled beside their managers.
            ["LocalHost:ConsumerConcurrency"] = "4",
        });
        await host.SeedDirectoryAsync(spec);
        return host;
    }

    /// <summary>The calls the emulators served since it was made, or since <see cref="Reset"/>.</summary>
    private sealed class CallMeter
    {
        private readonly GraphEmulator _graph;
        private long _graphBefore;
        private long _userReadsBefore;

        public CallMeter(LocalHostHarness host)
        {
            _graph = host.Services.GetRequiredService<GraphEmulator>();
            ServiceNow = host.Services.GetRequiredService<ServiceNowEmulatorCounters>();
            Reset();
        }

        public ServiceNowEmulatorCounters ServiceNow { get; }

        public long Graph => _graph.RequestCount - _graphBefore;

        /// <summary>Graph's per-user GETs (alone or inside a <c>$batch</c>) among <see cref="Graph"/>.</summary>
        public long UserReads => _graph.UserReadCount - _userReadsBefore;

        public void Reset()
        {
            ServiceNow.Reset();
            _graphBefore = _graph.RequestCount;
            _userReadsBefore = _graph.UserReadCount;
        }
    }

    /// <summary>A full sync, and the follow-ups it queued, run to the end.</summary>
    private static async Task<SyncProgress> SyncWithFollowUpsAsync(LocalHostHarness host)
    {
        var done = await host.Services.GetRequiredService<FullSyncRunner>().RunAsync();
        await host.DrainedAsync("the first sync's follow-ups done");
        return done;
    }
}
