using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>
/// A full reading of the groups takes each group's members from the delta pages and compares the groups with ServiceNow a
/// chunk at a time: groups already as Entra has them cost no read or write of their own, the others are written.
/// </summary>
public sealed class GroupsReadInChunksTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AuditorsId = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f";
    private const string SalesId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";
    private const string MeganId = "4e5f6a7b-8c9d-4e0f-9a1b-2c3d4e5f6a7b";

    private readonly ProvisioningWorld _world = new();

    public GroupsReadInChunksTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.AddUser(MeganId, "megan@contoso.com");
    }

    private async Task ProvisionUsersAsync()
    {
        foreach (var id in new[] { AdeleId, AlexId, MeganId })
        {
            await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, id), CancellationToken.None);
        }
    }

    /// <summary>Reads every group from scratch, Finance's members spread over the two pages.</summary>
    private async Task ReadInFullAsync(string messageId)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(
        [
            new DirectoryGroup { Id = FinanceId, DisplayName = "Finance", MembersAdded = [AdeleId] },
            new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors", MembersAdded = [AlexId] },
        ], null) { IsFullResync = true, NextLink = "page-2" });
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(
        [
            new DirectoryGroup { Id = FinanceId, MembersAdded = [AlexId, MeganId] },
            new DirectoryGroup { Id = SalesId, DisplayName = "Sales", Description = "Field sales", MembersAdded = [MeganId] },
        ], "link-1") { IsFullResync = true });
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", messageId), CancellationToken.None);
    }

    private IReadOnlyList<string?> MembersOf(string groupObjectId)
    {
        var group = _world.ServiceNow.Records("sys_user_group").Single(g => g[_world.Options.ObjectIdField] == groupObjectId)["sys_id"];
        var users = _world.SysUsers.ToDictionary(u => u["sys_id"]!, u => u[_world.Options.ObjectIdField]);
        return [.. _world.ServiceNow.Records("sys_user_grmember").Where(r => r["group"] == group).Select(r => users.GetValueOrDefault(r["user"]!)).Order()];
    }

    [Fact]
    public async Task A_full_reading_writes_every_member_the_pages_listed_without_reading_any_groups_members_from_Graph()
    {
        await ProvisionUsersAsync();

        await ReadInFullAsync("first");

        Assert.Equal(new[] { AdeleId, AlexId, MeganId }.Order(), MembersOf(FinanceId));
        Assert.Equal([AlexId], MembersOf(AuditorsId));
        Assert.Equal("Field sales", _world.ServiceNow.Records("sys_user_group").Single(g => g["name"] == "Sales")["description"]);
        await _world.Directory.DidNotReceive().GetGroupMembersAsync(Arg.Any<string>(), Arg.Any<CancellationToken>());
        Assert.DoesNotContain(_world.Checkpoints.Values.Keys, k => k.StartsWith("groups-delta:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_full_reading_with_nothing_changed_reads_the_groups_and_their_rows_once_for_the_chunk_and_writes_nothing()
    {
        await ProvisionUsersAsync();
        await ReadInFullAsync("first");
        var writesBefore = _world.ServiceNow.Writes;
        _world.ServiceNow.Queries.Clear();

        await ReadInFullAsync("second");

        Assert.Equal(writesBefore, _world.ServiceNow.Writes);
        Assert.Empty(_world.ChangeRequests);
        Assert.Single(_world.ServiceNow.Queries, q => q.Table == "sys_user_group");
        Assert.Single(_world.ServiceNow.Queries, q => q.Table == "sys_user_grmember");
        Assert.DoesNotContain(_world.ServiceNow.Queries, q => q.Table == "sys_user");
        var second = _world.Log.Entries.Where(e => e.MessageId == "second").ToList();
        Assert.Equal(3, second.Count);
        Assert.All(second, e => Assert.Equal(ProvisioningAction.Unchanged, e.Action));
    }

    [Fact]
    public async Task A_member_added_by_hand_in_ServiceNow_and_a_renamed_group_are_put_right_by_the_next_full_reading()
    {
        await ProvisionUsersAsync();
        await ReadInFullAsync("first");
        var auditors = _world.ServiceNow.Records("sys_user_group").Single(g => g["name"] == "Auditors")["sys_id"];
        var megan = _world.SysUser(MeganId)["sys_id"];
        _world.ServiceNow.Seed("sys_user_grmember", new() { ["user"] = megan, ["group"] = auditors });
        var sales = _world.ServiceNow.Records("sys_user_group").Single(g => g["name"] == "Sales")["sys_id"]!;
        await _world.ServiceNow.UpdateAsync("sys_user_group", sales, new Dictionary<string, string?> { ["name"] = "Sales (old)" });

        await ReadInFullAsync("second");

        Assert.Equal([AlexId], MembersOf(AuditorsId));
        Assert.Equal("Sales", _world.ServiceNow.Records("sys_user_group").Single(g => g["sys_id"] == sales)["name"]);
        var decided = _world.Log.Entries.Where(e => e.MessageId == "second").ToDictionary(e => e.SubjectId, e => e.Action);
        Assert.Equal(ProvisioningAction.Updated, decided[AuditorsId]);
        Assert.Equal(ProvisioningAction.Updated, decided[SalesId]);
        Assert.Equal(ProvisioningAction.Unchanged, decided[FinanceId]);
    }

    [Fact]
    public async Task A_group_already_as_Entra_has_it_still_gets_the_change_record_the_ledger_is_missing()
    {
        await ProvisionUsersAsync();
        await ReadInFullAsync("baseline");
        // What a host killed between a group's ServiceNow write and its ledger write leaves: the row, the ledger a step behind.
        _world.Checkpoints.Values[MembershipLedger.Key(SalesId, MeganId)] = "out:1";

        await ReadInFullAsync("second");

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: megan@contoso.com added to Sales", record["short_description"]);
        Assert.Equal("in:2", _world.Checkpoints.Values[MembershipLedger.Key(SalesId, MeganId)]);
    }

    [Fact]
    public async Task A_group_noted_by_an_unfinished_run_of_an_older_version_has_its_members_read_from_Graph()
    {
        await ProvisionUsersAsync();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId, AlexId] }], "link-0"));
        // Its pages were read and its group noted without the members the pages listed; it stopped before settling.
        _world.Checkpoints.Values[$"groups-delta:read:{FinanceId}"] =
            $$"""{"Id":"{{FinanceId}}","DisplayName":"Finance","Description":null,"Mail":null,"SecurityEnabled":null,"IsAssignableToRole":null}""";
        await new GroupDeltaProgress(null, Full: true, Baseline: true, RunKey: "old", StartedBy: "old", Pages: 1, Groups: 1, Finished: true, DeltaLink: "link-0")
            .SaveAsync(_world.Checkpoints, CancellationToken.None);

        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", "old"), CancellationToken.None);

        Assert.Equal(new[] { AdeleId, AlexId }.Order(), MembersOf(FinanceId));
        await _world.Directory.Received(1).GetGroupMembersAsync(FinanceId, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_full_reading_goes_on_in_queued_steps_of_a_few_pages_or_chunks_and_a_step_delivered_after_the_end_starts_nothing()
    {
        await ProvisionUsersAsync();
        _world.Options.FullSyncChunkSize = 1;
        var groups = Enumerable.Range(0, 7).Select(i => $"00000000-0000-4000-8000-0000000000{i:D2}").ToArray();
        for (var i = 0; i < groups.Length; i++)
        {
            var last = i == groups.Length - 1;
            _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = groups[i], DisplayName = $"Team {i}", MembersAdded = [AdeleId, AlexId] }],
                last ? "link-1" : null) { NextLink = last ? null : $"page-{i + 1}" });
        }

        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", "run"), CancellationToken.None);

        // The first step read five pages and noted their groups; the rest is queued.
        Assert.Empty(_world.ServiceNow.Records("sys_user_group"));
        var next = Assert.Single(_world.Queue.Ready);
        Assert.Equal("run~step5.0", next.Message.MessageId);

        var steps = await _world.DrainAsync();

        // Two pages and two chunks, then three more steps of two chunks or less: seven groups, one chunk each.
        Assert.Equal(4, steps);
        Assert.Equal([null, "page-5"], _world.GroupDeltaReads);
        Assert.Equal(groups.Order(), _world.ServiceNow.Records("sys_user_group").Select(g => g[_world.Options.ObjectIdField]).Order());
        Assert.All(groups, g => Assert.Equal(new[] { AdeleId, AlexId }.Order(), MembersOf(g)));
        Assert.Equal("link-1", _world.Checkpoints.Values[GroupChangesHandler.DeltaLinkKey]);

        await _world.GroupHandler().HandleAsync(next.Message, CancellationToken.None);

        Assert.Equal([null, "page-5"], _world.GroupDeltaReads);
        Assert.False(_world.Checkpoints.Values.ContainsKey(GroupDeltaProgress.Key));
    }
}
