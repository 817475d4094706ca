using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;

namespace EntraSnow.Provisioning.Tests;

/// <summary>
/// Switching an instance that already has its people over to EntraSnow: existing sys_user records without an object id
/// are adopted (by user name, then e-mail), never two users onto one record, never one user onto two.
/// </summary>
public sealed class UserAdoptionTests
{
    private readonly ProvisioningWorld _world = new();

    private string ExistingRecord(string userName, string email, string? objectId = null, string active = "true") =>
        _world.ServiceNow.Seed("sys_user", new Dictionary<string, string?>
        {
            ["user_name"] = userName,
            ["email"] = email,
            ["first_name"] = "Hand",
            ["last_name"] = "Made",
            ["active"] = active,
            ["u_entra_object_id"] = objectId ?? string.Empty,
        });

    private Task HandleAsync(string objectId) =>
        _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, objectId), CancellationToken.None);

    [Fact]
    public async Task A_user_without_a_record_is_adopted_onto_the_record_with_their_user_name_and_stamped_with_the_object_id()
    {
        var sysId = ExistingRecord("Ada@Contoso.com", "ada.old@contoso.com");
        _world.AddUser("u1", "ada@contoso.com");

        await HandleAsync("u1");

        var record = Assert.Single(_world.SysUsers);
        Assert.Equal(sysId, record["sys_id"]);
        Assert.Equal("u1", record["u_entra_object_id"]);
        Assert.Equal("Given u1", record["first_name"]);
        var entry = Assert.Single(_world.Log.Entries);
        Assert.Equal(ProvisioningAction.Adopted, entry.Action);
        Assert.Equal(sysId, entry.TargetSysId);
        Assert.StartsWith("adopted: the existing sys_user with user_name 'ada@contoso.com'", entry.Reason);
    }

    [Fact]
    public async Task An_adopted_user_handled_again_writes_nothing()
    {
        ExistingRecord("ada@contoso.com", "ada@contoso.com");
        _world.AddUser("u1", "ada@contoso.com");
        await HandleAsync("u1");
        var writes = _world.ServiceNow.Writes;

        await HandleAsync("u1");

        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.Equal(ProvisioningAction.Unchanged, _world.Log.Entries[^1].Action);
        Assert.Single(_world.SysUsers);
    }

    [Fact]
    public async Task A_user_whose_user_name_matches_nothing_is_adopted_by_email()
    {
        var sysId = ExistingRecord("adal", "ada.lovelace@contoso.com");
        _world.AddUser("u1", "ada@contoso.com");
        _world.Users["u1"] = _world.Users["u1"] with { Mail = "ada.lovelace@contoso.com" };

        await HandleAsync("u1");

        var record = Assert.Single(_world.SysUsers);
        Assert.Equal(sysId, record["sys_id"]);
        Assert.Equal("ada@contoso.com", record["user_name"]);
        Assert.Contains("email 'ada.lovelace@contoso.com'", _world.Log.Entries[^1].Reason);
    }

    [Fact]
    public async Task A_user_name_held_by_two_records_is_a_conflict_and_nothing_is_written()
    {
        var first = ExistingRecord("ada@contoso.com", "a1@contoso.com");
        var second = ExistingRecord("ada@contoso.com", "a2@contoso.com");
        _world.AddUser("u1", "ada@contoso.com");
        var writes = _world.ServiceNow.Writes;

        await HandleAsync("u1");

        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.All(_world.SysUsers, r => Assert.Equal(string.Empty, r["u_entra_object_id"]));
        var entry = Assert.Single(_world.Log.Entries);
        Assert.Equal(ProvisioningAction.Conflict, entry.Action);
        Assert.Contains("2 sys_user records have user_name 'ada@contoso.com'", entry.Reason);
        Assert.Contains(first, entry.Reason);
        Assert.Contains(second, entry.Reason);
        Assert.Empty(_world.DeadLettered);
    }

    [Fact]
    public async Task A_record_linked_to_another_Entra_object_is_not_adopted()
    {
        ExistingRecord("ada@contoso.com", "ada@contoso.com", objectId: "someone-else");
        _world.AddUser("u1", "ada@contoso.com");
        var writes = _world.ServiceNow.Writes;

        await HandleAsync("u1");

        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.Equal("someone-else", Assert.Single(_world.SysUsers)["u_entra_object_id"]);
        var entry = Assert.Single(_world.Log.Entries);
        Assert.Equal(ProvisioningAction.Conflict, entry.Action);
        Assert.Contains("linked to another Entra object (someone-else)", entry.Reason);
    }

    [Fact]
    public async Task A_conflict_raises_one_task_however_often_it_recurs_when_the_setting_asks_for_it()
    {
        _world.Options.Adoption.ConflictTask.Enabled = true;
        ExistingRecord("ada@contoso.com", "a1@contoso.com");
        ExistingRecord("ada@contoso.com", "a2@contoso.com");
        _world.AddUser("u1", "ada@contoso.com");

        await HandleAsync("u1");
        await HandleAsync("u1");

        var task = Assert.Single(_world.ServiceNow.Records("sc_task"));
        Assert.Equal("entrasnow:adoption-conflict:u1", task["correlation_id"]);
        Assert.Contains("ada@contoso.com", task["short_description"]);
        Assert.Equal(2, _world.SysUsers.Count);
    }

    [Fact]
    public async Task With_adoption_off_a_new_record_is_created_beside_the_existing_one()
    {
        _world.Options.Adoption.MatchOn = string.Empty;
        ExistingRecord("ada@contoso.com", "ada@contoso.com");
        _world.AddUser("u1", "ada@contoso.com");

        await HandleAsync("u1");

        Assert.Equal(2, _world.SysUsers.Count);
        Assert.Equal(ProvisioningAction.Created, _world.Log.Entries[^1].Action);
    }

    [Fact]
    public async Task A_full_sync_adopts_every_existing_record_at_about_one_call_per_user_and_a_second_sync_writes_nothing()
    {
        const int count = 240;
        for (var i = 0; i < count; i++)
        {
            ExistingRecord($"user{i:D3}@contoso.com", $"user{i:D3}@contoso.com");
            _world.AddUser($"u{i:D3}", $"user{i:D3}@contoso.com");
        }

        var callsBefore = _world.ServiceNow.Calls;
        var runId = await _world.StartSyncAsync();
        await _world.DrainAsync();

        var calls = _world.ServiceNow.Calls - callsBefore;
        Assert.Equal(count, _world.SysUsers.Count);
        Assert.All(_world.SysUsers, r => Assert.NotEqual(string.Empty, r["u_entra_object_id"]));
        var summary = (await _world.FullSync().GetProgressAsync(runId))!.Summary.Users;
        Assert.Equal(count, summary.Adopted);
        Assert.Equal(0, summary.Created);
        Assert.True(calls <= 1.1 * count, $"{calls} ServiceNow calls to adopt {count} users");

        var writes = _world.ServiceNow.Writes;
        var second = await _world.StartSyncAsync();
        await _world.DrainAsync();

        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.Equal(count, (await _world.FullSync().GetProgressAsync(second))!.Summary.Users.Unchanged);
    }

    [Fact]
    public async Task A_full_sync_adopts_neither_of_two_users_who_would_each_take_the_same_record()
    {
        var shared = ExistingRecord("ada@contoso.com", "bob.mail@contoso.com");
        _world.AddUser("ua", "ada@contoso.com");
        _world.AddUser("ub", "bob@contoso.com");
        _world.Users["ub"] = _world.Users["ub"] with { Mail = "bob.mail@contoso.com" };

        var runId = await _world.StartSyncAsync();
        await _world.DrainAsync();

        Assert.Equal(string.Empty, _world.ServiceNow.Records("sys_user").Single(r => r["sys_id"] == shared)["u_entra_object_id"]);
        var conflicts = _world.Log.Entries.Where(e => e.Action == ProvisioningAction.Conflict).ToList();
        Assert.Equal(["ua", "ub"], conflicts.Select(e => e.SubjectId).Order());
        Assert.All(conflicts, e => Assert.Contains($"sys_user {shared} matches 2 Entra users", e.Reason));
        Assert.Equal(2, (await _world.FullSync().GetProgressAsync(runId))!.Summary.Users.Conflicts);
    }

    [Fact]
    public async Task A_full_sync_creates_users_nothing_matches_and_adopts_the_others()
    {
        ExistingRecord("ada@contoso.com", "ada@contoso.com");
        _world.AddUser("u1", "ada@contoso.com");
        _world.AddUser("u2", "new@contoso.com");

        var runId = await _world.StartSyncAsync();
        await _world.DrainAsync();

        var summary = (await _world.FullSync().GetProgressAsync(runId))!.Summary.Users;
        Assert.Equal((1, 1), (summary.Adopted, summary.Created));
        Assert.Equal(["u1", "u2"], _world.SysUsers.Select(r => r["u_entra_object_id"]).Order());
    }
}
