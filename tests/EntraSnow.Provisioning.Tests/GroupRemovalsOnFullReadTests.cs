using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>
/// A full reading of a group (a delta read from scratch, a full sync, a single group read again) lists who is in it now,
/// never who left: members removed while no delta was read are found by comparing the ledger with the reading.
/// </summary>
public sealed class GroupRemovalsOnFullReadTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";
    private const string AuditorsId = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f";

    private readonly ProvisioningWorld _world = new();

    public GroupRemovalsOnFullReadTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers" });
        _world.Directory.GetGroupAsync(AuditorsId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors" });
    }

    private async Task DeltaAsync(DirectoryGroup item, bool fromScratch)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([item], "link") { IsFullResync = fromScratch });
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);
    }

    private Task BaselineAsync(string[] users, string[]? groups = null) => DeltaAsync(
        new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = users, NestedGroupsAdded = groups ?? [] }, fromScratch: false);

    private Task FullReadAsync(string[] users, string[]? groups = null) => DeltaAsync(
        new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = users, NestedGroupsAdded = groups ?? [] }, fromScratch: true);

    [Fact]
    public async Task A_delta_read_from_scratch_records_a_member_who_left_while_no_delta_was_read()
    {
        await BaselineAsync([AlexId, AdeleId]);

        await FullReadAsync([AlexId]);

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: adele@contoso.com removed from Finance-Approvers", record["short_description"]);
        Assert.Equal($"entra-group:{FinanceId}:{AdeleId}:removed:2", record["correlation_id"]);
    }

    [Fact]
    public async Task A_removal_found_on_a_full_reading_is_recorded_once_however_often_the_group_is_read_again()
    {
        await BaselineAsync([AlexId, AdeleId]);

        for (var reading = 0; reading < 3; reading++)
        {
            await FullReadAsync([AlexId]);
        }

        Assert.Single(_world.ChangeRequests);
    }

    [Fact]
    public async Task A_nested_group_that_left_unseen_is_recorded_by_its_name()
    {
        await BaselineAsync([AlexId], [AuditorsId]);

        await FullReadAsync([AlexId]);

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: Auditors removed from Finance-Approvers", record["short_description"]);
        Assert.Contains($"group Auditors (object id {AuditorsId})", record["description"]);
    }

    [Fact]
    public async Task An_incremental_delta_takes_no_member_it_does_not_mention_as_gone()
    {
        await BaselineAsync([AlexId]);

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, fromScratch: false);

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: adele@contoso.com added to Finance-Approvers", record["short_description"]);
    }

    [Fact]
    public async Task A_single_group_read_again_in_full_records_a_member_who_left_unseen()
    {
        await BaselineAsync([AlexId, AdeleId]);
        _world.Directory.GetGroupMembersAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new GroupMembers([AdeleId], []));

        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupSync, FinanceId), CancellationToken.None);

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: alex@contoso.com removed from Finance-Approvers", record["short_description"]);
    }

    [Fact]
    public async Task Many_members_gone_at_once_make_one_summary_record_above_the_cap()
    {
        var many = Enumerable.Range(0, 12).Select(i => $"00000000-0000-4000-8000-{i:D12}").ToArray();
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 10;
        await BaselineAsync([AlexId, .. many]);

        await FullReadAsync([AlexId]);

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: 12 members removed from Finance-Approvers", record["short_description"]);
    }
}
