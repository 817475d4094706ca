using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Provisioning.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>A sensitive group under remove-until-approved: the member goes out at once, ServiceNow's decision brings them back or not.</summary>
public sealed class RemoveUntilApprovedTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";

    private readonly ProvisioningWorld _world = new();

    public RemoveUntilApprovedTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers" });
        _world.Directory.AddGroupMemberAsync(default!, default!, default).ReturnsForAnyArgs(true);
        _world.Directory.RemoveGroupMemberAsync(default!, default!, default).ReturnsForAnyArgs(true);
        _world.GroupChanges.SensitiveGroups.Add(new SensitiveGroup { GroupId = FinanceId, Policy = SensitiveGroupPolicies.RemoveUntilApproved });
    }

    private async Task DeltaAsync(DirectoryGroup item, string link, string? messageId = null)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([item], link));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", messageId ?? link), CancellationToken.None);
    }

    private Task BaselineAsync() => DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AlexId] }, "baseline");

    private ChangeDecisions Decisions()
    {
        var ledger = new MembershipLedger(_world.Checkpoints);
        return new ChangeDecisions(_world.ServiceNow, new MembershipFulfilment(_world.Directory, ledger, _world.Clock, NullLogger<MembershipFulfilment>.Instance),
            new SensitiveGroupPolicy(_world.Directory, Microsoft.Extensions.Options.Options.Create(_world.GroupChanges)), NullLogger<ChangeDecisions>.Instance);
    }

    /// <summary>Adele added in Entra; the change EntraSnow opened, numbered as ServiceNow numbers it, then decided by an approver.</summary>
    private async Task<IReadOnlyDictionary<string, string?>> AddedThenDecidedAsync(string approval)
    {
        await BaselineAsync();
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-1");
        var change = Assert.Single(_world.ChangeRequests);
        await _world.ServiceNow.UpdateAsync("change_request", change["sys_id"]!, new Dictionary<string, string?> { ["number"] = "CHG0010001", ["approval"] = approval });
        return change;
    }

    private static ChangeMessage Decision(IReadOnlyDictionary<string, string?> change, string approval) => new()
    {
        MessageId = $"{MessageKinds.ChangeDecision}:{change["sys_id"]}:{approval}",
        SessionKey = change["sys_id"]!,
        Kind = MessageKinds.ChangeDecision,
        TenantId = "servicenow",
        SubjectId = change["sys_id"]!,
        ChangedAt = DateTimeOffset.UnixEpoch,
        CorrelationId = "c1",
        Properties = new Dictionary<string, string>
        {
            [ServiceNowWebhookIntake.Properties.Table] = "change_request",
            [ServiceNowWebhookIntake.Properties.Number] = "CHG0010001",
            [ServiceNowWebhookIntake.Properties.Approval] = approval,
        },
    };

    [Fact]
    public async Task A_member_added_is_removed_at_once_and_a_normal_change_waits_in_Authorize_once_however_often_the_delta_comes()
    {
        await BaselineAsync();

        for (var delivery = 0; delivery < 3; delivery++)
        {
            await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-1", $"delivery-{delivery}");
        }

        await _world.Directory.Received(1).RemoveGroupMemberAsync(FinanceId, AdeleId, Arg.Any<CancellationToken>());
        var change = Assert.Single(_world.ChangeRequests);
        Assert.Equal(("normal", "-3", "requested"), (change["type"], change["state"], change["approval"]));
        Assert.Contains("remove-until-approved", change["description"]);
    }

    [Fact]
    public async Task EntraSnows_own_removal_is_recorded_closed_for_the_change_and_starts_nothing_new()
    {
        await BaselineAsync();
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-1");

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersRemoved = [AdeleId] }, "link-2");

        Assert.Equal(2, _world.ChangeRequests.Count);
        var removal = _world.ChangeRequests[1];
        Assert.Contains("Changed by: EntraSnow, for entra-group:", removal["description"]);
        Assert.Equal("3", removal["state"]);
    }

    [Fact]
    public async Task More_members_than_the_cap_each_get_their_own_change_and_are_each_removed()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 1;
        await BaselineAsync();

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId, "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f"] }, "link-1");

        Assert.Equal(2, _world.ChangeRequests.Count);
        await _world.Directory.Received(2).RemoveGroupMemberAsync(FinanceId, Arg.Any<string>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task An_approval_puts_the_member_back_and_closes_the_change_once()
    {
        var change = await AddedThenDecidedAsync("approved");

        await Decisions().ApplyAsync(Decision(change, "approved"), CancellationToken.None);
        await Decisions().ApplyAsync(Decision(change, "approved"), CancellationToken.None);

        await _world.Directory.Received(1).AddGroupMemberAsync(FinanceId, AdeleId, Arg.Any<CancellationToken>());
        Assert.Equal(("3", "successful"), (change["state"], change["close_code"]));
        Assert.Equal("CHG0010001", (await new MembershipLedger(_world.Checkpoints).GetOwnChangeAsync(FinanceId, AdeleId, isMember: true, CancellationToken.None))!.Ticket);
    }

    [Fact]
    public async Task A_removal_and_re_add_EntraSnow_made_that_one_delta_sees_as_no_change_are_both_recorded_as_its_own_and_the_member_stays()
    {
        var change = await AddedThenDecidedAsync("approved");
        await Decisions().ApplyAsync(Decision(change, "approved"), CancellationToken.None);

        // Graph reports the member's state when the delta is read: out and back in again reads as in, as before.
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, "link-2");

        var ledger = new MembershipLedger(_world.Checkpoints);
        Assert.Equal(["added:1", "removed:2", "added:3"], _world.ChangeRequests.Select(r => r["correlation_id"]!.Split(':', 4)[3]));
        Assert.Contains("Changed by: EntraSnow, for entra-group:", _world.ChangeRequests[1]["description"]);
        Assert.Contains("Changed by: EntraSnow, for CHG0010001", _world.ChangeRequests[2]["description"]);
        Assert.All(_world.ChangeRequests.Skip(1), r => Assert.Equal("3", r["state"]));
        Assert.Equal(new MembershipState(true, 3), (await ledger.GetAsync(FinanceId, AdeleId, CancellationToken.None)).Recorded);
        Assert.Empty(await ledger.OwnChangesAsync(FinanceId, CancellationToken.None).ToListAsync());
        await _world.Directory.Received(1).RemoveGroupMemberAsync(FinanceId, AdeleId, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_rejection_leaves_the_member_out_and_cancels_the_change_with_the_approvers_reason()
    {
        var change = await AddedThenDecidedAsync("rejected");
        var approver = _world.ServiceNow.Seed("sysapproval_approver", new() { ["sysapproval"] = change["sys_id"], ["state"] = "rejected" });
        _world.ServiceNow.Seed("sys_journal_field", new() { ["name"] = "sysapproval_approver", ["element_id"] = approver, ["element"] = "comments", ["value"] = "Not without the CFO" });

        await Decisions().ApplyAsync(Decision(change, "rejected"), CancellationToken.None);

        await _world.Directory.DidNotReceiveWithAnyArgs().AddGroupMemberAsync(default!, default!, default);
        Assert.Equal("4", change["state"]);
        Assert.Contains("rejected: Not without the CFO", change["close_notes"]);
    }

    [Fact]
    public async Task A_decision_ServiceNow_does_not_have_yet_changes_nothing()
    {
        var change = await AddedThenDecidedAsync("requested");

        await Decisions().ApplyAsync(Decision(change, "approved"), CancellationToken.None);

        await _world.Directory.DidNotReceiveWithAnyArgs().AddGroupMemberAsync(default!, default!, default);
        Assert.Equal("-3", change["state"]);
    }

    [Fact]
    public async Task A_decision_on_a_group_under_another_policy_moves_nobody()
    {
        var change = await AddedThenDecidedAsync("approved");
        _world.GroupChanges.SensitiveGroups[0].Policy = SensitiveGroupPolicies.Approve;

        await Decisions().ApplyAsync(Decision(change, "approved"), CancellationToken.None);

        await _world.Directory.DidNotReceiveWithAnyArgs().AddGroupMemberAsync(default!, default!, default);
        Assert.Equal("-3", change["state"]);
    }
}
