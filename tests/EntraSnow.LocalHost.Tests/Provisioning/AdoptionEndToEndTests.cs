using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.LocalHost.Tests.Provisioning;

/// <summary>
/// Switching over an instance that already has its people, through the whole local host: the ServiceNow emulator holds
/// a sys_user for every Graph user (matched by user name, no object ids, as the Entra provisioning service or an
/// administrator left them); a full sync adopts them instead of creating duplicates.
/// </summary>
public sealed class AdoptionEndToEndTests
{
    private const int Users = 300;

    [Fact]
    public async Task A_full_sync_over_an_instance_with_its_users_adopts_them_all_creates_none_and_a_second_sync_writes_nothing()
    {
        await using var host = await LocalHostHarness.StartEmptyAsync(new Dictionary<string, string?>
        {
            // Were a report to need its manager in a follow-up, it would come at once and be counted below. The sync
            // tells each report which record its manager adopts, so none should, however many consumers run side by side.
            ["Provisioning:FollowUpDelay"] = "00:00:00",
        });
        var graph = host.Services.GetRequiredService<GraphEmulator>();
        var serviceNow = host.Services.GetRequiredService<ServiceNowEmulatorStore>();
        var counters = host.Services.GetRequiredService<ServiceNowEmulatorCounters>();
        var seeded = await host.SeedDirectoryAsync(new GraphSeedSpec { Users = Users, Groups = 0, RiskDetections = 0 });

        var existing = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in seeded.UserIds)
        {
            var user = graph.GetUser(id)!;
            var record = serviceNow.Insert("sys_user", new Dictionary<string, string>
            {
                ["user_name"] = user["userPrincipalName"]!.GetValue<string>(),
                ["email"] = user["mail"]?.GetValue<string>() ?? string.Empty,
                ["first_name"] = "Existing",
            });
            existing[id] = record["sys_id"];
        }

        // One UPN held by two records: that user is not written at all.
        var doubled = seeded.UserIds[^1];
        serviceNow.Insert("sys_user", new Dictionary<string, string> { ["user_name"] = graph.GetUser(doubled)!["userPrincipalName"]!.GetValue<string>() });
        counters.Reset();

        var sync = host.Services.GetRequiredService<FullSyncRunner>();
        var first = await sync.RunAsync();

        Assert.Equal(SyncPhase.Completed, first.Phase);
        Assert.Equal(Users - 1, first.Summary.Users.Adopted);
        Assert.Equal(0, first.Summary.Users.Created);
        Assert.Equal(1, first.Summary.Users.Conflicts);
        Assert.Equal(0, counters.Served("POST", "sys_user"));
        Assert.Equal(Users + 1, serviceNow.Count("sys_user"));
        foreach (var id in seeded.UserIds.Where(id => id != doubled))
        {
            var adopted = serviceNow.Get("sys_user", existing[id])!;
            Assert.Equal(id, adopted["u_entra_object_id"]);
            // Each report points at its manager's own (adopted) record, not at a new one and not at nothing.
            var manager = graph.GetUserManager(id);
            Assert.Equal(manager is null || manager == doubled ? string.Empty : existing[manager], adopted.GetValueOrDefault("manager", string.Empty));
        }

        var adoptedCalls = counters.Reads("sys_user") + counters.Writes("sys_user");
        Assert.True(adoptedCalls <= 1.1 * (Users - 1), $"{adoptedCalls} sys_user calls to adopt {Users - 1} users");
        var log = host.Services.GetRequiredService<IProvisioningLog>();

        var conflict = Assert.Single(await log.GetBySubjectAsync(doubled, 10));
        Assert.Equal(ProvisioningAction.Conflict, conflict.Action);
        Assert.Contains("2 sys_user records have user_name", conflict.Reason);
        Assert.All(serviceNow.Query("sys_user", $"user_name={graph.GetUser(doubled)!["userPrincipalName"]!.GetValue<string>()}"),
            r => Assert.Equal(string.Empty, r.GetValueOrDefault("u_entra_object_id", string.Empty)));

        await host.DrainedAsync("the first sync's follow-ups done");
        counters.Reset();
        var second = await sync.RunAsync();

        Assert.Equal(SyncPhase.Completed, second.Phase);
        Assert.True(counters.Writes() == 0, $"writes on the second sync: {string.Join(", ", counters.Snapshot().Where(p => p.Value > 0))}");
        var secondEntries = await log.GetByCorrelationAsync(second.RunId);
        Assert.True(Users - 1 == second.Summary.Users.Unchanged, string.Join("\n", secondEntries.Where(e => e.Action != ProvisioningAction.Unchanged).Select(e => $"{e.SubjectId} {e.Action} {string.Join(",", e.ChangedFields)} {e.Reason}")));
        Assert.Equal(1, second.Summary.Users.Conflicts);
    }
}
