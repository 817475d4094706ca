using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Provisioning.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>Membership changes EntraSnow makes itself for a ticket, as the group delta that reports them records them.</summary>
public sealed class OwnMembershipChangeTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";

    private readonly ProvisioningWorld _world = new();

    public OwnMembershipChangeTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers" });
    }

    private MembershipFulfilment Fulfilment() => new(_world.Directory, new MembershipLedger(_world.Checkpoints), _world.Clock, NullLogger<MembershipFulfilment>.Instance);

    private async Task DeltaAsync(DirectoryGroup item, string link)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([item], link));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", link), CancellationToken.None);
    }

    [Fact]
    public async Task A_member_EntraSnow_added_for_a_ticket_is_recorded_closed_naming_the_ticket_even_in_a_group_that_asks_for_approval()
    {
        _world.GroupChanges.SensitiveGroups.Add(new SensitiveGroup { GroupId = FinanceId, Policy = SensitiveGroupPolicies.Approve });
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AlexId] }, "baseline");

        _world.Directory.AddGroupMemberAsync(FinanceId, AdeleId, Arg.Any<CancellationToken>()).Returns(true);
        await Fulfilment().AddAsync(FinanceId, AdeleId, "RITM0010001", CancellationToken.None);
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-1");

        await _world.Directory.Received(1).AddGroupMemberAsync(FinanceId, AdeleId, Arg.Any<CancellationToken>());
        var record = Assert.Single(_world.ChangeRequests);
        Assert.Contains("Changed by: EntraSnow, for RITM0010001", record["description"]);
        Assert.Equal("standard", record["type"]);
        Assert.Equal("3", record["state"]);
        Assert.Equal("successful", record["close_code"]);
        Assert.False(record.ContainsKey("approval"));
        Assert.Null(await new MembershipLedger(_world.Checkpoints).GetOwnChangeAsync(FinanceId, AdeleId, isMember: true, CancellationToken.None));
    }

    [Fact]
    public async Task A_removal_waiting_for_its_delta_and_the_re_add_after_it_explain_one_transition_each()
    {
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AdeleId] }, "baseline");
        _world.Directory.RemoveGroupMemberAsync(FinanceId, AdeleId, Arg.Any<CancellationToken>()).Returns(true);
        _world.Directory.AddGroupMemberAsync(FinanceId, AdeleId, Arg.Any<CancellationToken>()).Returns(true);

        await Fulfilment().RemoveAsync(FinanceId, AdeleId, "CHG0010001", CancellationToken.None);
        await Fulfilment().AddAsync(FinanceId, AdeleId, "CHG0010001", CancellationToken.None);
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersRemoved = [AdeleId] }, "link-1");
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-2");

        Assert.Equal(2, _world.ChangeRequests.Count);
        Assert.All(_world.ChangeRequests, r => Assert.Contains("Changed by: EntraSnow, for CHG0010001", r["description"]));
    }

    [Fact]
    public async Task A_note_older_than_a_day_explains_nothing()
    {
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AlexId] }, "baseline");
        await Fulfilment().AddAsync(FinanceId, AdeleId, "RITM0010001", CancellationToken.None);

        _world.Clock.Advance(MembershipTransitions.OwnChangeWindow + TimeSpan.FromMinutes(1));
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-1");

        Assert.Contains("Changed by: actor not read", Assert.Single(_world.ChangeRequests)["description"]);
    }

    [Fact]
    public async Task A_note_left_by_a_change_that_never_happened_does_not_explain_later_changes_by_someone_else()
    {
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AdeleId] }, "baseline");
        // Adele is already a member: Graph answers the add as done, and no delta ever reports it.
        await Fulfilment().AddAsync(FinanceId, AdeleId, "RITM0010001", CancellationToken.None);

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersRemoved = [AdeleId] }, "link-1");
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-2");

        Assert.Equal(2, _world.ChangeRequests.Count);
        Assert.All(_world.ChangeRequests, r => Assert.Contains("Changed by: actor not read", r["description"]));
    }
}
