using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync.DryRun;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Stores;
using EntraSnow.Provisioning.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests.DryRun;

/// <summary>
/// The dry run of a full sync: the real runner and handlers over ports that hold writes back. What it reports is what
/// the full sync then does; the pieces that make that hold (writes laid over later reads, old → new) on their own.
/// </summary>
public sealed class SyncDryRunTests
{
    private readonly ProvisioningWorld _world = new();

    private SyncDryRun DryRun()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_world.Directory);
        services.AddSingleton<IServiceNowTable>(_world.ServiceNow);
        services.AddSingleton<ICheckpointStore>(_world.Checkpoints);
        services.AddSingleton<TimeProvider>(_world.Clock);
        services.AddSingleton(Options.Create(_world.Options));
        services.AddSingleton(Options.Create(_world.GroupChanges));
        services.AddSingleton(Options.Create(_world.Messaging));
        services.AddSingleton(Options.Create(new ServiceNowOptions { InstanceUrl = "https://example.service-now.com" }));
        return new SyncDryRun(services.BuildServiceProvider());
    }

    /// <summary>One user of each kind: adopted by user name, created, drifted, in conflict, and one gone from Entra.</summary>
    private (string Adopted, string Created, string Drifted, string Conflict, string Gone) SeedInstance()
    {
        _world.AddUser("u-adopt", "adopt@contoso.example");
        _world.ServiceNow.Seed("sys_user", new() { ["user_name"] = "adopt@contoso.example", ["first_name"] = "Existing" });
        _world.AddUser("u-new", "new@contoso.example");
        var drifted = _world.AddUser("u-drift", "drift@contoso.example") with { JobTitle = "Engineer" };
        _world.Users["u-drift"] = drifted;
        _world.ServiceNow.Seed("sys_user", new()
        {
            ["u_entra_object_id"] = "u-drift", ["user_name"] = "drift@contoso.example", ["email"] = "drift@contoso.example", ["first_name"] = "Given u-drift",
            ["last_name"] = "Surname u-drift", ["title"] = "Intern", ["active"] = "true", ["locked_out"] = "false",
        });
        _world.AddUser("u-twice", "twice@contoso.example");
        _world.ServiceNow.Seed("sys_user", new() { ["user_name"] = "twice@contoso.example" });
        _world.ServiceNow.Seed("sys_user", new() { ["user_name"] = "twice@contoso.example" });
        _world.ServiceNow.Seed("sys_user", new() { ["u_entra_object_id"] = "u-gone", ["user_name"] = "gone@contoso.example", ["active"] = "true" });
        return ("u-adopt", "u-new", "u-drift", "u-twice", "u-gone");
    }

    [Fact]
    public async Task Dry_run_writes_nothing_and_reports_what_the_full_sync_then_does()
    {
        var (adopted, created, drifted, conflict, gone) = SeedInstance();

        var report = await DryRun().RunAsync();

        Assert.Equal(0, _world.ServiceNow.Writes);
        var planned = report.Objects.ToDictionary(o => o.ObjectId);
        Assert.Equal(ProvisioningAction.Adopted, planned[adopted].Action);
        Assert.Contains(new FieldChange("first_name", "Existing", "Given u-adopt"), planned[adopted].Fields);
        Assert.Equal(ProvisioningAction.Created, planned[created].Action);
        Assert.Contains(new FieldChange("user_name", null, "new@contoso.example"), planned[created].Fields);
        Assert.Equal(ProvisioningAction.Updated, planned[drifted].Action);
        Assert.Equal([new FieldChange("title", "Intern", "Engineer")], planned[drifted].Fields);
        Assert.Equal(ProvisioningAction.Conflict, planned[conflict].Action);
        Assert.Contains("2 sys_user records have user_name 'twice@contoso.example'", planned[conflict].Reason, StringComparison.Ordinal);
        Assert.Equal(ProvisioningAction.Deactivated, planned[gone].Action);
        Assert.Contains(new FieldChange("active", "true", "false"), planned[gone].Fields);
        Assert.Equal("adopt@contoso.example", planned[adopted].Name);

        await _world.StartSyncAsync();
        await _world.DrainAsync();

        var real = ProvisioningSummary.Decisive(_world.Log.Entries).ToDictionary(e => (e.ObjectKind, e.SubjectId), e => e.Action);
        Assert.Equal(report.Objects.ToDictionary(o => (o.ObjectKind, o.ObjectId), o => o.Action).OrderBy(p => p.Key), real.OrderBy(p => p.Key));
        Assert.Equal("Engineer", _world.SysUsers.Single(r => r.GetValueOrDefault("u_entra_object_id") == drifted)["title"]);
    }

    [Fact]
    public async Task Dry_run_reads_a_user_from_Graph_once_its_handler_deciding_from_the_delta_page()
    {
        var (adopted, created, drifted, conflict, gone) = SeedInstance();

        var report = await DryRun().RunAsync();

        // Users delta carried the walked users: their handlers got them from the page, not from a GET of their own.
        foreach (var walked in new[] { adopted, created, drifted, conflict })
        {
            await _world.Directory.DidNotReceive().GetUserAsync(walked, Arg.Any<CancellationToken>());
        }

        // A record whose Entra user the walk never saw is asked about, as the real sync asks.
        await _world.Directory.Received(1).GetUserAsync(gone, Arg.Any<CancellationToken>());
        var planned = report.Objects.ToDictionary(o => o.ObjectId, o => o.Action);
        Assert.Equal((ProvisioningAction.Adopted, ProvisioningAction.Created, ProvisioningAction.Updated, ProvisioningAction.Conflict, ProvisioningAction.Deactivated),
            (planned[adopted], planned[created], planned[drifted], planned[conflict], planned[gone]));
    }

    [Fact]
    public async Task A_second_dry_run_after_the_sync_has_nothing_to_do_but_the_conflict()
    {
        var (_, _, _, conflict, _) = SeedInstance();
        await _world.StartSyncAsync();
        await _world.DrainAsync();
        var writes = _world.ServiceNow.Writes;

        var report = await DryRun().RunAsync();

        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.Equal(0, report.WritesHeldBack);
        Assert.Equal([conflict], report.Objects.Where(o => o.NeedsAttention && o.Action != ProvisioningAction.Skipped).Select(o => o.ObjectId));
    }

    [Fact]
    public async Task A_write_held_back_is_laid_over_later_reads_and_remembers_what_it_replaced()
    {
        var instance = new InMemoryServiceNow();
        var existing = instance.Seed("sys_user", new() { ["user_name"] = "a@contoso.example", ["title"] = "Intern", ["active"] = "true" });
        var table = new DryRunServiceNowTable(instance);

        var read = await table.FindAsync("sys_user", EncodedQuery.Where("user_name", "a@contoso.example"), ["sys_id", "title"]);
        await table.UpdateAsync("sys_user", read!.SysId, new Dictionary<string, string?> { ["title"] = "Engineer", ["u_entra_object_id"] = "u-a", ["active"] = "false" });
        var department = await table.CreateAsync("cmn_department", new Dictionary<string, string?> { ["name"] = "Sales" });

        Assert.Equal(0, instance.Writes);
        Assert.Equal("Intern", instance.Records("sys_user")[0]["title"]);
        var update = table.Writes[0];
        Assert.Equal((PlannedOperation.Update, existing, "Intern", "Engineer"), (update.Operation, update.SysId, update.Before["title"], update.Fields["title"]));
        Assert.False(update.Before.ContainsKey("u_entra_object_id"));
        Assert.Equal(existing, (await table.FindAsync("sys_user", EncodedQuery.Where("u_entra_object_id", "IN", "u-x,u-a")))?.SysId);
        Assert.Empty(await table.QueryAsync("sys_user", EncodedQuery.Where("active", "true")).ToListAsync());
        Assert.Equal("Engineer", (await table.GetAsync("sys_user", existing))!["title"]);
        Assert.Equal(department.SysId, (await table.FindAsync("cmn_department", EncodedQuery.Where("name", "sales")))?.SysId);
        Assert.StartsWith(DryRunServiceNowTable.NewIdPrefix, department.SysId, StringComparison.Ordinal);

        await table.DeleteAsync("sys_user", existing);

        Assert.Null(await table.GetAsync("sys_user", existing));
        Assert.Single(instance.Records("sys_user"));
    }

    [Fact]
    public async Task A_query_is_evaluated_as_ServiceNow_reads_it_an_or_joining_the_condition_before_it()
    {
        var table = new DryRunServiceNowTable(new InMemoryServiceNow());
        await table.CreateAsync("sys_user", new Dictionary<string, string?> { ["user_name"] = "x", ["email"] = "y", ["active"] = "false" });

        Assert.Single(await table.QueryAsync("sys_user", EncodedQuery.Where("active", "false").And("user_name", "nope").Or("email", "Y")).ToListAsync());
        Assert.Empty(await table.QueryAsync("sys_user", EncodedQuery.Where("active", "true").And("user_name", "x").Or("email", "y")).ToListAsync());
        Assert.Single(await table.QueryAsync("sys_user", EncodedQuery.Where("user_name", "ISNOTEMPTY", string.Empty).And("email", "NOT IN", "a,b")).ToListAsync());
    }

    [Fact]
    public async Task A_write_to_Entra_ID_is_recorded_and_not_sent_while_reads_go_through()
    {
        var table = new DryRunServiceNowTable(new InMemoryServiceNow());
        var names = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        _world.AddUser("u-1", "one@contoso.example");
        var directory = DryRunDirectory.Create(_world.Directory, table, names);

        var user = await directory.GetUserAsync("u-1");
        var removed = await directory.RemoveGroupMemberAsync("g-1", "u-1");

        Assert.Equal("one@contoso.example", user?.UserPrincipalName);
        Assert.Equal("one@contoso.example", names["u-1"]);
        Assert.True(removed);
        await _world.Directory.DidNotReceive().RemoveGroupMemberAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>());
        var held = Assert.Single(table.Writes);
        Assert.Equal((PlannedOperation.Directory, "RemoveGroupMember", "g-1"), (held.Operation, held.Target, held.SysId));
        Assert.Equal("u-1", held.Fields["userId"]);
    }
}
