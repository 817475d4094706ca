using System.Text.Json.Nodes;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Provisioning.Tests.Integration;

/// <summary>The flows with the real connectors against both emulators over HTTP on 127.0.0.1.</summary>
public sealed class ProvisioningOverHttpTests
{
    private static readonly GraphSeedSpec Seed = new() { Users = 60, Groups = 5, GroupsPerUser = 2, RiskDetections = 0, DisabledPercent = 10 };

    [Fact]
    public async Task A_full_sync_provisions_the_seeded_users_and_groups_and_a_rerun_writes_nothing()
    {
        await using var harness = await EmulatorHarness.StartAsync(Seed);
        var all = harness.Seeded.UserIds;
        var disabled = all.Where(id => harness.Graph.Emulator.GetUser(id)?["accountEnabled"]?.GetValue<bool>() == false).ToHashSet();
        Assert.NotEmpty(disabled);

        var first = await harness.RunFullSyncAsync();

        Assert.Equal(SyncPhase.Completed, first.Phase);
        Assert.Empty(first.Summary.Failures);
        Assert.Equal(all.Order(), harness.SysUsers.Select(u => u["u_entra_object_id"]).Order());
        Assert.Equal(all.Count, first.Summary.Users.Created);
        Assert.All(harness.SysUsers, u => Assert.Equal(disabled.Contains(u["u_entra_object_id"]) ? "false" : "true", u["active"]));
        Assert.Equal(5, first.Summary.Groups.Created);
        Assert.True(harness.ServiceNow.Store.Count("sys_user_grmember") > 0);
        var withManager = harness.SysUsers.Count(u => u.GetValueOrDefault("manager") is { Length: > 0 });
        Assert.Equal(all.Count - 1, withManager);

        var writesBefore = harness.ServiceNow.Counters.Writes();
        var second = await harness.RunFullSyncAsync();

        Assert.Equal(writesBefore, harness.ServiceNow.Counters.Writes());
        Assert.Equal(all.Count, second.Summary.Users.Unchanged);
        Assert.Equal(5, second.Summary.Groups.Unchanged);
    }

    [Fact]
    public async Task A_full_sync_takes_each_user_from_the_delta_pages_it_walks_with_no_user_read_of_its_own_while_a_change_notification_still_reads_the_user()
    {
        await using var harness = await EmulatorHarness.StartAsync(Seed with { Groups = 0 });
        var graph = harness.Graph.Emulator;
        var all = harness.Seeded.UserIds;
        var disabled = all.Where(id => graph.GetUser(id)?["accountEnabled"]?.GetValue<bool>() == false).ToHashSet();
        var managers = all.ToDictionary(id => id, graph.GetUserManager);
        var before = graph.UserReadCount;

        var sync = await harness.RunFullSyncAsync();

        Assert.Equal(SyncPhase.Completed, sync.Phase);
        Assert.Equal(all.Count, sync.Summary.Users.Created);
        Assert.Equal(0, graph.UserReadCount - before);
        // What the pages said was written: the account state, and each manager.
        var sysIdOf = harness.SysUsers.ToDictionary(u => u["u_entra_object_id"], u => u["sys_id"]);
        Assert.NotEmpty(disabled);
        Assert.All(harness.SysUsers, u => Assert.Equal(disabled.Contains(u["u_entra_object_id"]) ? "false" : "true", u["active"]));
        Assert.Equal(all.Count - 1, managers.Count(m => m.Value is not null));
        Assert.All(harness.SysUsers, u => Assert.Equal(managers[u["u_entra_object_id"]] is { } manager ? sysIdOf[manager] : string.Empty,
            u.GetValueOrDefault("manager") ?? string.Empty));

        var userId = all[3];
        await graph.ChangeUserAsync(userId, new JsonObject { ["jobTitle"] = "Head of Snapshots" });
        await harness.Queue.SendAsync(QueueNames.UserChanges, [ProvisioningWorld.Message(MessageKinds.UserUpdated, userId)]);
        await harness.DrainAllAsync();

        Assert.Equal(1, graph.UserReadCount - before);
        Assert.Equal("Head of Snapshots", harness.SysUsers.Single(u => u["u_entra_object_id"] == userId)["title"]);
    }

    [Fact]
    public async Task A_user_changed_after_the_sync_read_its_page_and_provisioned_by_its_notification_first_keeps_the_change()
    {
        await using var harness = await EmulatorHarness.StartAsync(Seed with { Users = 20, Groups = 0, DisabledPercent = 0 });
        var graph = harness.Graph.Emulator;
        // The head of the chain: its notification has no manager to wait for (a follow-up would read Graph again).
        var userId = harness.Seeded.UserIds.First(id => graph.GetUserManager(id) is null);
        var runId = await harness.FullSync.StartAsync();
        // The walk reads the pages and queues the users: this user's message carries the page's job title.
        while (!harness.Queue.Ready.Any(r => r.Message.Kind == MessageKinds.UserSync && r.Message.SubjectId == userId))
        {
            Assert.True(await harness.HandleNextAsync(m => m.Kind == MessageKinds.UserSyncPage), "the walk ended without queueing the user");
        }

        // The user changes now; its notification is handled before the sync's message about it.
        await graph.ChangeUserAsync(userId, new JsonObject { ["jobTitle"] = "Changed after the page" });
        await harness.Queue.SendAsync(QueueNames.UserChanges, [ProvisioningWorld.Message(MessageKinds.UserUpdated, userId)]);
        Assert.True(await harness.HandleNextAsync(m => m.Kind == MessageKinds.UserUpdated));
        var readsBefore = graph.UserReadCount;

        var sync = await harness.FinishFullSyncAsync(runId);

        Assert.Equal(SyncPhase.Completed, sync.Phase);
        Assert.Equal("Changed after the page", harness.SysUsers.Single(u => u["u_entra_object_id"] == userId)["title"]);
        // The sync's message read the truth for that user, and only for that user.
        Assert.Equal(1, graph.UserReadCount - readsBefore);
    }

    [Fact]
    public async Task Under_the_fail_policy_users_of_a_department_ServiceNow_lacks_are_dead_lettered_with_the_reason_and_the_rest_provisioned()
    {
        await using var harness = await EmulatorHarness.StartAsync(Seed, new Dictionary<string, string?>
        {
            ["Provisioning:Mappings:department:OnMissingReference"] = "Fail",
        });
        // The Graph seed has an "HR" department; the ServiceNow seed calls it "Human Resources".
        var hr = harness.Seeded.UserIds.Where(id => harness.Graph.Emulator.GetUser(id)?["department"]?.GetValue<string>() == "HR").ToHashSet();
        Assert.NotEmpty(hr);

        var final = await harness.RunFullSyncAsync();

        Assert.Equal(hr.Order(), harness.DeadLettered.Select(d => d.Message.SubjectId).Order());
        Assert.All(harness.DeadLettered, d => Assert.Contains("No cmn_department record has name 'HR'", d.Reason, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(harness.Seeded.UserIds.Count - hr.Count, harness.SysUsers.Count);
        Assert.Equal(hr.Count, final.Summary.Users.Failed);
    }

    [Fact]
    public async Task With_ServiceNow_down_for_the_length_of_a_sync_it_completes_when_ServiceNow_is_back_without_duplicates()
    {
        await using var harness = await EmulatorHarness.StartAsync(Seed);
        var runId = await harness.FullSync.StartAsync();
        harness.ServiceNow.Faults.Outage = true;

        await harness.DrainAsync();
        Assert.Empty(harness.SysUsers);
        Assert.Empty(harness.DeadLettered);
        var during = await harness.FullSync.GetProgressAsync(runId);
        Assert.Equal(0, during!.UsersDone);

        harness.ServiceNow.Faults.Outage = false;
        var waiting = harness.FullSync.WaitAsync(runId);
        while (!waiting.IsCompleted)
        {
            await harness.DrainAllAsync();
            await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMilliseconds(20)));
        }

        var final = await waiting;
        Assert.Equal(SyncPhase.Completed, final.Phase);
        var ids = harness.SysUsers.Select(u => u["u_entra_object_id"]).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(final.Summary.Users.Created, ids.Count);
        Assert.Empty(harness.DeadLettered);
    }

    [Fact]
    public async Task A_user_disabled_renamed_and_deleted_in_Graph_is_followed_by_the_same_sys_user()
    {
        await using var harness = await EmulatorHarness.StartAsync(Seed with { Users = 5, Groups = 0, DisabledPercent = 0 });
        var userId = await harness.Graph.Emulator.CreateUserAsync("Ada Lovelace", "ada@contoso.example");
        async Task NotifyAsync(string kind)
        {
            await harness.Queue.SendAsync(QueueNames.UserChanges, [ProvisioningWorld.Message(kind, userId)]);
            await harness.DrainAllAsync();
        }

        await NotifyAsync(MessageKinds.UserUpdated);
        var record = Assert.Single(harness.SysUsers);
        Assert.Equal("ada@contoso.example", record["user_name"]);

        await harness.Graph.Emulator.ChangeUserAsync(userId, new JsonObject { ["userPrincipalName"] = "ada.lovelace@contoso.example" });
        await NotifyAsync(MessageKinds.UserUpdated);
        await harness.Graph.Emulator.DisableUserAsync(userId);
        await NotifyAsync(MessageKinds.UserUpdated);

        var after = Assert.Single(harness.SysUsers);
        Assert.Equal(record["sys_id"], after["sys_id"]);
        Assert.Equal("ada.lovelace@contoso.example", after["user_name"]);
        Assert.Equal("false", after["active"]);
        Assert.Equal("true", after["locked_out"]);

        await harness.Graph.Emulator.HardDeleteUserAsync(userId);
        await NotifyAsync(MessageKinds.UserDeleted);
        Assert.Single(harness.SysUsers);
        var history = await harness.Log.GetBySubjectAsync(userId, 10);
        Assert.Equal([ProvisioningAction.Unchanged, ProvisioningAction.Deactivated, ProvisioningAction.Updated, ProvisioningAction.Created],
            history.Select(e => e.Action));
    }
}
