using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;

namespace EntraSnow.Provisioning.Tests;

/// <summary>
/// A new Entra user whose UPN is on an inactive sys_user of a deleted Entra object: a rehire with a new account, or
/// someone new with a former colleague's name. The rehire policy decides.
/// </summary>
public sealed class RehireTests
{
    private readonly ProvisioningWorld _world = new();

    /// <summary>The deleted object's record, deactivated by EntraSnow when it left.</summary>
    private string FormerRecord(string userName = "ada@contoso.com", string objectId = "0ld0b1ec7-gone") =>
        _world.ServiceNow.Seed("sys_user", new Dictionary<string, string?>
        {
            ["user_name"] = userName,
            ["email"] = userName,
            ["active"] = "false",
            ["locked_out"] = "true",
            ["u_entra_object_id"] = objectId,
        });

    private Task HandleAsync(string objectId) =>
        _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, objectId), CancellationToken.None);

    [Fact]
    public async Task By_default_the_old_record_keeps_its_history_under_a_renamed_user_name_and_the_new_user_gets_a_record_of_their_own()
    {
        var former = FormerRecord();
        _world.AddUser("new-ada", "ada@contoso.com");

        await HandleAsync("new-ada");

        var old = _world.ServiceNow.Records("sys_user").Single(r => r["sys_id"] == former);
        Assert.Equal("ada@contoso.com.former-0ld0b1ec", old["user_name"]);
        Assert.Equal("0ld0b1ec7-gone", old["u_entra_object_id"]);
        Assert.Equal("false", old["active"]);
        var mine = _world.SysUser("new-ada");
        Assert.NotEqual(former, mine["sys_id"]);
        Assert.Equal("ada@contoso.com", mine["user_name"]);
        var entry = _world.Log.Entries[^1];
        Assert.Equal(ProvisioningAction.Created, entry.Action);
        Assert.Contains("rehire policy New", entry.Reason);
        Assert.Contains("'ada@contoso.com.former-0ld0b1ec'", entry.Reason);
    }

    [Fact]
    public async Task Relink_reactivates_the_old_record_for_the_new_object()
    {
        _world.Options.Adoption.Rehire = RehirePolicy.Relink;
        var former = FormerRecord();
        _world.AddUser("new-ada", "ada@contoso.com");

        await HandleAsync("new-ada");

        var record = Assert.Single(_world.SysUsers);
        Assert.Equal(former, record["sys_id"]);
        Assert.Equal("new-ada", record["u_entra_object_id"]);
        Assert.Equal("true", record["active"]);
        Assert.Equal("false", record["locked_out"]);
        Assert.Equal(ProvisioningAction.Adopted, _world.Log.Entries[^1].Action);
        Assert.StartsWith("relinked:", _world.Log.Entries[^1].Reason);
    }

    [Fact]
    public async Task Fail_writes_nothing_and_asks_a_person_with_a_task()
    {
        _world.Options.Adoption.Rehire = RehirePolicy.Fail;
        FormerRecord();
        _world.AddUser("new-ada", "ada@contoso.com");
        var writes = _world.ServiceNow.Writes;

        await HandleAsync("new-ada");

        Assert.Equal("0ld0b1ec7-gone", Assert.Single(_world.SysUsers)["u_entra_object_id"]);
        Assert.Equal(ProvisioningAction.Conflict, _world.Log.Entries[^1].Action);
        Assert.Contains("rehire policy is Fail", _world.Log.Entries[^1].Reason);
        var task = Assert.Single(_world.ServiceNow.Records("sc_task"));
        Assert.Equal("entrasnow:adoption-conflict:new-ada", task["correlation_id"]);
        Assert.Equal(writes + 1, _world.ServiceNow.Writes);
    }

    [Fact]
    public async Task An_inactive_record_of_a_user_Entra_still_has_is_a_conflict_whatever_the_policy()
    {
        _world.Options.Adoption.Rehire = RehirePolicy.Relink;
        FormerRecord(objectId: "still-here");
        _world.AddUser("still-here", "ada.renamed@contoso.com", enabled: false);
        _world.AddUser("new-ada", "ada@contoso.com");

        await HandleAsync("new-ada");

        Assert.Equal("still-here", Assert.Single(_world.SysUsers)["u_entra_object_id"]);
        Assert.Equal(ProvisioningAction.Conflict, _world.Log.Entries[^1].Action);
        Assert.Contains("linked to another Entra object (still-here)", _world.Log.Entries[^1].Reason);
    }

    [Fact]
    public async Task A_full_sync_leaves_a_reused_name_to_the_handler_which_applies_the_policy()
    {
        var former = FormerRecord();
        _world.AddUser("new-ada", "ada@contoso.com");

        await _world.StartSyncAsync();
        await _world.DrainAsync();

        Assert.Equal(2, _world.SysUsers.Count);
        Assert.Equal("ada@contoso.com", _world.SysUser("new-ada")["user_name"]);
        Assert.Equal("ada@contoso.com.former-0ld0b1ec", _world.SysUsers.Single(r => r["sys_id"] == former)["user_name"]);
    }
}
