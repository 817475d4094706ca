using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;

namespace EntraSnow.Provisioning.Tests;

/// <summary>An instance without the Entra object id field: provisioning refuses, with a clear reason, and writes nothing.</summary>
public sealed class ObjectIdFieldTests
{
    private readonly ProvisioningWorld _world = new();

    private void Dictionary(string table, params string[] fields)
    {
        foreach (var field in fields)
        {
            _world.ServiceNow.Seed("sys_dictionary", new Dictionary<string, string?> { ["name"] = table, ["element"] = field });
        }
    }

    [Fact]
    public async Task A_user_is_refused_with_the_reason_and_nothing_written_when_sys_user_has_no_object_id_field()
    {
        Dictionary("sys_user", "user_name", "email");
        _world.AddUser("u1", "ada@contoso.com");
        await _world.Queue.SendAsync(QueueNames.UserChanges, [ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1")]);
        var writes = _world.ServiceNow.Writes;

        await _world.DrainAsync();

        Assert.Equal(writes, _world.ServiceNow.Writes);
        var (message, reason) = Assert.Single(_world.DeadLettered);
        Assert.Equal("u1", message.SubjectId);
        Assert.StartsWith("sys_user has no field u_entra_object_id (sys_dictionary)", reason);
        Assert.Equal(ProvisioningAction.Failed, Assert.Single(_world.Log.Entries).Action);
    }

    [Fact]
    public async Task A_group_is_refused_when_sys_user_group_has_no_object_id_field()
    {
        Dictionary("sys_user_group", "name");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Desk" }], "link"));
        await _world.Queue.SendAsync(QueueNames.GroupChanges, [ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups")]);

        await _world.DrainAsync();

        Assert.Empty(_world.ServiceNow.Records("sys_user_group"));
        Assert.Contains(_world.DeadLettered, d => d.Reason.StartsWith("sys_user_group has no field u_entra_object_id", StringComparison.Ordinal));
        Assert.Equal(0, _world.ServiceNow.Writes);
    }

    [Fact]
    public async Task A_user_is_provisioned_when_sys_dictionary_lists_the_field_and_the_dictionary_is_read_once()
    {
        Dictionary("sys_user", "user_name", "u_entra_object_id");
        _world.AddUser("u1", "ada@contoso.com");
        _world.AddUser("u2", "bob@contoso.com");
        var handler = _world.UserHandler();

        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u2"), CancellationToken.None);

        Assert.Equal(2, _world.SysUsers.Count);
        Assert.Single(_world.ServiceNow.Queries, q => q.Table == "sys_dictionary");
    }
}
