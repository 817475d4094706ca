using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;

namespace EntraSnow.Provisioning.Tests;

/// <summary>Groups an instance already has are adopted by name, with the same rules as users.</summary>
public sealed class GroupAdoptionTests
{
    private readonly ProvisioningWorld _world = new();

    private string ExistingGroup(string name, string? objectId = null) =>
        _world.ServiceNow.Seed("sys_user_group", new Dictionary<string, string?>
        {
            ["name"] = name,
            ["description"] = "made by hand",
            ["active"] = "true",
            ["u_entra_object_id"] = objectId ?? string.Empty,
        });

    private async Task RunDeltaAsync(params DirectoryGroup[] groups)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(groups, "link-" + Guid.NewGuid().ToString("N")));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);
    }

    private IEnumerable<ProvisioningLogEntry> GroupEntries => _world.Log.Entries.Where(e => e.ObjectKind == ProvisioningObjectKinds.Group);

    [Fact]
    public async Task A_group_without_a_record_adopts_the_existing_group_of_its_name_and_its_members_follow_Entra()
    {
        _world.AddUser("u1", "u1@contoso.com");
        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);
        var sysId = ExistingGroup("service desk");

        await RunDeltaAsync(new DirectoryGroup { Id = "g1", DisplayName = "Service Desk", Description = "Tier 1", MembersAdded = ["u1"] });

        var group = Assert.Single(_world.ServiceNow.Records("sys_user_group"));
        Assert.Equal(sysId, group["sys_id"]);
        Assert.Equal("g1", group["u_entra_object_id"]);
        Assert.Equal("Tier 1", group["description"]);
        Assert.Single(_world.ServiceNow.Records("sys_user_grmember"), m => m["group"] == sysId);
        var entry = Assert.Single(GroupEntries);
        Assert.Equal(ProvisioningAction.Adopted, entry.Action);
        Assert.Contains("sys_user_group with name 'Service Desk'", entry.Reason);
    }

    [Fact]
    public async Task A_name_held_by_two_groups_is_a_conflict_and_nothing_is_written()
    {
        ExistingGroup("Service Desk");
        ExistingGroup("Service Desk");
        var writes = _world.ServiceNow.Writes;

        await RunDeltaAsync(new DirectoryGroup { Id = "g1", DisplayName = "Service Desk" });

        Assert.Equal(writes, _world.ServiceNow.Writes);
        var entry = Assert.Single(GroupEntries);
        Assert.Equal(ProvisioningAction.Conflict, entry.Action);
        Assert.Contains("2 sys_user_group records have name 'Service Desk'", entry.Reason);
    }

    [Fact]
    public async Task A_group_linked_to_another_Entra_group_is_not_adopted()
    {
        ExistingGroup("Service Desk", objectId: "g-other");

        await RunDeltaAsync(new DirectoryGroup { Id = "g1", DisplayName = "Service Desk" });

        Assert.Equal("g-other", Assert.Single(_world.ServiceNow.Records("sys_user_group"))["u_entra_object_id"]);
        Assert.Contains("linked to another Entra object (g-other)", Assert.Single(GroupEntries).Reason);
    }

    [Fact]
    public async Task Two_Entra_groups_of_one_name_adopt_neither_the_existing_group()
    {
        var sysId = ExistingGroup("Service Desk");

        await RunDeltaAsync(new DirectoryGroup { Id = "g1", DisplayName = "Service Desk" }, new DirectoryGroup { Id = "g2", DisplayName = "Service Desk" });

        Assert.Equal(string.Empty, Assert.Single(_world.ServiceNow.Records("sys_user_group"))["u_entra_object_id"]);
        var entries = GroupEntries.ToList();
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal(ProvisioningAction.Conflict, e.Action));
        Assert.All(entries, e => Assert.Contains($"sys_user_group {sysId} matches 2 Entra groups with name 'Service Desk'", e.Reason));
    }

    [Fact]
    public async Task An_adopted_group_read_again_writes_nothing()
    {
        ExistingGroup("Service Desk");
        await RunDeltaAsync(new DirectoryGroup { Id = "g1", DisplayName = "Service Desk" });
        var writes = _world.ServiceNow.Writes;

        await RunDeltaAsync(new DirectoryGroup { Id = "g1", DisplayName = "Service Desk" });

        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.Equal(ProvisioningAction.Unchanged, GroupEntries.Last().Action);
    }

    [Fact]
    public async Task With_group_adoption_off_a_new_group_is_created_beside_the_existing_one()
    {
        _world.Options.Adoption.GroupMatchOn = string.Empty;
        ExistingGroup("Service Desk");

        await RunDeltaAsync(new DirectoryGroup { Id = "g1", DisplayName = "Service Desk" });

        Assert.Equal(2, _world.ServiceNow.Records("sys_user_group").Count);
        Assert.Equal(ProvisioningAction.Created, Assert.Single(GroupEntries).Action);
    }
}
