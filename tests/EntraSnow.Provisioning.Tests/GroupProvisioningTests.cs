using NSubstitute;
using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;

namespace EntraSnow.Provisioning.Tests;

public sealed class GroupProvisioningTests
{
    private readonly ProvisioningWorld _world = new();

    private async Task ProvisionUsersAsync(params string[] ids)
    {
        foreach (var id in ids)
        {
            _world.AddUser(id, $"{id}@contoso.com");
            await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, id), CancellationToken.None);
        }
    }

    private Task RunDeltaAsync(string messageId = "resync-1") =>
        _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", messageId), CancellationToken.None);

    private List<string?> MembersOf(string groupObjectId)
    {
        var group = _world.ServiceNow.Records("sys_user_group").Single(g => g["u_entra_object_id"] == groupObjectId);
        var users = _world.SysUsers.ToDictionary(u => u["sys_id"]!, u => u["u_entra_object_id"]);
        return _world.ServiceNow.Records("sys_user_grmember").Where(m => m["group"] == group["sys_id"])
            .Select(m => users[m["user"]!]).Order().ToList();
    }

    [Fact]
    public async Task A_group_delta_creates_the_group_and_its_memberships_and_stores_the_link()
    {
        await ProvisionUsersAsync("u1", "u2");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(
            [new DirectoryGroup { Id = "g1", DisplayName = "Service Desk", MembersAdded = ["u1"] }], null));
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(
            [new DirectoryGroup { Id = "g1", MembersAdded = ["u2"] }], "groups-link-1"));

        await RunDeltaAsync();

        var group = Assert.Single(_world.ServiceNow.Records("sys_user_group"));
        Assert.Equal("Service Desk", group["name"]);
        Assert.Equal(["u1", "u2"], MembersOf("g1"));
        Assert.Equal("groups-link-1", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);
        Assert.Equal(ProvisioningAction.Created, _world.Log.Entries.Last(e => e.ObjectKind == ProvisioningObjectKinds.Group).Action);
    }

    [Fact]
    public async Task A_member_removed_in_Entra_is_removed_from_the_group_in_ServiceNow()
    {
        await ProvisionUsersAsync("u1", "u2");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Desk", MembersAdded = ["u1", "u2"] }], "link-1"));
        await RunDeltaAsync();

        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", MembersRemoved = ["u2"] }], "link-2"));
        await RunDeltaAsync("resync-2");

        Assert.Equal(["u1"], MembersOf("g1"));
        Assert.Equal("Desk", Assert.Single(_world.ServiceNow.Records("sys_user_group"))["name"]);
        Assert.Equal("link-2", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);
    }

    [Fact]
    public async Task A_full_resync_reconciles_memberships_added_by_hand_in_ServiceNow()
    {
        await ProvisionUsersAsync("u1", "u2");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Desk", MembersAdded = ["u1"] }], "link-1"));
        await RunDeltaAsync();
        var groupSysId = _world.ServiceNow.Records("sys_user_group")[0]["sys_id"];
        _world.ServiceNow.Seed("sys_user_grmember", new() { ["user"] = _world.SysUser("u2")["sys_id"], ["group"] = groupSysId });

        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", "full") with
        {
            Properties = new Dictionary<string, string> { [ProvisioningMessageProperties.FromScratch] = "true" },
        }, CancellationToken.None);

        Assert.Equal(["u1"], MembersOf("g1"));
    }

    [Fact]
    public async Task A_deleted_group_is_deactivated_and_loses_its_members_but_is_not_deleted()
    {
        await ProvisionUsersAsync("u1");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Desk", MembersAdded = ["u1"] }], "link-1"));
        await RunDeltaAsync();

        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", Removed = RemovedReason.Deleted }], "link-2"));
        await RunDeltaAsync("resync-2");

        var group = Assert.Single(_world.ServiceNow.Records("sys_user_group"));
        Assert.Equal("false", group["active"]);
        Assert.Empty(_world.ServiceNow.Records("sys_user_grmember"));
        Assert.Equal(ProvisioningAction.Deactivated, _world.Log.Entries[^1].Action);
    }

    [Fact]
    public async Task A_member_not_yet_provisioned_is_queued_and_joins_the_group_on_the_follow_up()
    {
        await ProvisionUsersAsync("u1");
        _world.AddUser("u2", "u2@contoso.com");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Desk", MembersAdded = ["u1", "u2"] }], "link-1"));

        await RunDeltaAsync();
        Assert.Equal(["u1"], MembersOf("g1"));
        Assert.Contains(_world.Queue.Ready, m => m.Message.Kind == MessageKinds.UserSync && m.Message.SubjectId == "u2");
        Assert.Contains("1 waiting", _world.Log.Entries[^1].Reason);

        _world.Directory.GetGroupAsync("g1", Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = "g1", DisplayName = "Desk" });
        _world.Directory.GetGroupMembersAsync("g1", Arg.Any<CancellationToken>()).Returns(new GroupMembers(["u1", "u2"], []));
        await _world.DrainAsync();

        Assert.Equal(["u1", "u2"], MembersOf("g1"));
    }

    [Fact]
    public async Task When_ServiceNow_fails_mid_run_the_delta_link_is_not_advanced()
    {
        _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey] = "old-link";
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Desk" }], "new-link"));
        _world.ServiceNow.FailWith = new ServiceNowUnreachableException("503");

        await Assert.ThrowsAsync<TransientFailureException>(() => RunDeltaAsync());

        Assert.Equal("old-link", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);
    }

    [Fact]
    public async Task A_group_notification_asks_for_one_delta_run_in_the_shared_groups_session()
    {
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupUpdated, "g1", "notif-1"), CancellationToken.None);

        var (queue, message) = Assert.Single(_world.Queue.Ready);
        Assert.Equal(QueueNames.GroupChanges, queue);
        Assert.Equal(MessageKinds.GroupDeltaResync, message.Kind);
        Assert.Equal(GroupChangesHandler.DeltaSessionKey, message.SessionKey);
        Assert.Equal("group.delta-resync:notif-1", message.MessageId);
    }

    [Fact]
    public async Task Groups_outside_the_configured_scope_are_not_created()
    {
        _world.Options.GroupIds.Add("g-in");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(
            [new DirectoryGroup { Id = "g-in", DisplayName = "In" }, new DirectoryGroup { Id = "g-out", DisplayName = "Out" }], "link"));

        await RunDeltaAsync();

        Assert.Equal("In", Assert.Single(_world.ServiceNow.Records("sys_user_group"))["name"]);
    }
}
