using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace EntraSnow.LocalHost.Tests.Provisioning;

/// <summary>
/// What a full sync costs the instance and Graph, counted by the emulators through the whole local host: the initial
/// sync about one write per user, and a resync where nothing changed a read per chunk of users, with no write and no
/// per-user call on either side.
/// </summary>
public sealed class FullSyncCallsEndToEndTests(ITestOutputHelper output)
{
    private const int Users = 900;

    [Fact]
    public async Task A_resync_with_nothing_changed_costs_at_most_a_hundredth_of_a_call_per_user_on_each_side_and_writes_nothing()
    {
        await using var host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:Seed:Users"] = "0",
            ["Sandbox:Seed:InitialSync"] = "false",
            ["LocalHost:RunTimers"] = "false",
            ["Provisioning:FollowUpDelay"] = "00:00:00",
            // As the adoption test: the figure is the sync's own cost, not the follow-ups of reports handled beside their managers.
            ["LocalHost:ConsumerConcurrency"] = "4",
        });
        var checkpoints = host.Services.GetRequiredService<ICheckpointStore>();
        await Eventually.AssertAsync(async () => await checkpoints.GetAsync("sandbox:seeded") is not null, "the sandbox's first run", TimeSpan.FromSeconds(60));
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var counters = host.Services.GetRequiredService<ServiceNowEmulatorCounters>();
        graph.Seed(new GraphSeedSpec { Users = Users, Groups = 0, RiskDetections = 0 });
        var sync = host.Services.GetRequiredService<FullSyncRunner>();

        counters.Reset();
        var graphBefore = graph.RequestCount;
        var first = await sync.RunAsync();
        await Eventually.AssertAsync(async () => (await host.Queues.GetStatsAsync()).All(q => q.Depth + q.InFlight + q.Scheduled == 0),
            "the first sync's follow-ups done", TimeSpan.FromSeconds(60));
        var initial = (ServiceNow: counters.Reads() + counters.Writes(), Graph: graph.RequestCount - graphBefore);
        output.WriteLine($"initial: {first.Summary.Users.Created} created; ServiceNow {initial.ServiceNow} calls ({(double)initial.ServiceNow / Users:F3} per user), Graph {initial.Graph} ({(double)initial.Graph / Users:F3} per user)");

        Assert.Equal(SyncPhase.Completed, first.Phase);
        Assert.Equal(Users, first.Summary.Users.Created);
        // Today's figure for an initial sync (BENCHMARKS.md): about one ServiceNow call per user created, one Graph GET.
        Assert.True(initial.ServiceNow <= 1.2 * Users, $"{initial.ServiceNow} ServiceNow calls to create {Users} users");

        counters.Reset();
        graphBefore = graph.RequestCount;
        var second = await sync.RunAsync();
        var resync = (ServiceNow: counters.Reads() + counters.Writes(), Graph: graph.RequestCount - graphBefore);
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
}
