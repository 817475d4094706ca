using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.AccessRequests;
using EntraSnow.Flows.CatalogTickets;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Tests.AccessRequests;

/// <summary>The access-request consumer's rules with the ports faked; the end-to-end tests against the emulators are in EntraSnow.LocalHost.Tests.</summary>
public sealed class AccessRequestHandlerTests
{
    private const string ItemId = "0123456789abcdef0123456789abcdef";
    private const string SysUser = "11111111111111111111111111111111";
    private const string SysGroup = "22222222222222222222222222222222";
    private const string GroupId = "6a1f0c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
    private const string UserId = "0f6c9a4e-7d2b-4c1a-9e8f-1a2b3c4d5e6f";

    private readonly IServiceNowTable _serviceNow = Substitute.For<IServiceNowTable>();
    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly InMemoryCheckpoints _checkpoints = new();
    private readonly AccessRequestOptions _options = new() { AllowedGroupNamePrefix = "App - " };
    private readonly Dictionary<string, string?> _item = new()
    {
        ["sys_id"] = ItemId,
        ["number"] = "RITM0010001",
        ["state"] = "1",
        ["active"] = "true",
        ["approval"] = "approved",
        ["requested_for"] = SysUser,
        ["opened_by"] = SysUser,
        ["variables.group"] = SysGroup,
        ["variables.action"] = "add",
    };

    private readonly List<IReadOnlyDictionary<string, string?>> _updates = [];

    public AccessRequestHandlerTests()
    {
        _serviceNow.GetAsync("sc_req_item", ItemId, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns(_ => new ServiceNowRecord(_item));
        _serviceNow.GetAsync("sys_user", SysUser, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = SysUser, ["u_entra_object_id"] = UserId, ["user_name"] = "adele@contoso.example" }));
        _serviceNow.GetAsync("sys_user_group", SysGroup, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = SysGroup, ["u_entra_object_id"] = GroupId }));
        _serviceNow.QueryAsync(default!, default!, (IReadOnlyList<string>?)default, default).ReturnsForAnyArgs(AsyncEnumerable.Empty<ServiceNowRecord>());
        _serviceNow.UpdateAsync("sc_req_item", ItemId, Arg.Do<IReadOnlyDictionary<string, string?>>(_updates.Add), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(_item));
        _directory.GetUserAsync(UserId, Arg.Any<CancellationToken>()).Returns(new DirectoryUser { Id = UserId, UserPrincipalName = "adele@contoso.example" });
        _directory.GetGroupAsync(GroupId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = GroupId, DisplayName = "App - Payroll" });
    }

    private AccessRequestHandler Handler()
    {
        var tickets = new CatalogTicketStore(_serviceNow, _directory, Options.Create(new ProvisioningOptions()), NullLogger<CatalogTicketStore>.Instance);
        var fulfilment = new MembershipFulfilment(_directory, new MembershipLedger(_checkpoints), TimeProvider.System, NullLogger<MembershipFulfilment>.Instance);
        var decisions = new ChangeDecisions(_serviceNow, fulfilment, new SensitiveGroupPolicy(_directory, Options.Create(new GroupChangeOptions())), NullLogger<ChangeDecisions>.Instance);
        return new AccessRequestHandler(tickets, _directory, fulfilment, decisions, Options.Create(_options));
    }

    private static ChangeMessage Message(string action = "add", string group = SysGroup) => new()
    {
        MessageId = $"{MessageKinds.AccessRequest}:sc_req_item:{ItemId}",
        SessionKey = SysUser,
        Kind = MessageKinds.AccessRequest,
        TenantId = "servicenow",
        SubjectId = ItemId,
        ChangedAt = DateTimeOffset.UnixEpoch,
        CorrelationId = "c1",
        Properties = new Dictionary<string, string>
        {
            [ServiceNowWebhookIntake.Properties.Table] = "sc_req_item",
            [ServiceNowWebhookIntake.Properties.Number] = "RITM0010001",
            [ServiceNowWebhookIntake.Properties.RequestedFor] = SysUser,
            [ServiceNowWebhookIntake.Properties.RequestedBy] = SysUser,
            [ServiceNowWebhookIntake.Properties.Group] = group,
            [ServiceNowWebhookIntake.Properties.Action] = action,
        },
    };

    private IReadOnlyDictionary<string, string?> Outcome() => Assert.Single(_updates);

    private async Task AssertRefusedAsync(string why)
    {
        var outcome = Outcome();
        Assert.Equal(TicketStates.ClosedIncomplete, outcome["state"]);
        Assert.StartsWith("EntraSnow did not change the group membership: ", outcome["work_notes"], StringComparison.Ordinal);
        Assert.Contains(why, outcome["work_notes"], StringComparison.Ordinal);
        await _directory.DidNotReceiveWithAnyArgs().AddGroupMemberAsync(default!, default!, default);
        await _directory.DidNotReceiveWithAnyArgs().RemoveGroupMemberAsync(default!, default!, default);
    }

    [Fact]
    public async Task An_approved_request_for_an_allowed_group_adds_the_member_and_closes_the_item_complete()
    {
        await Handler().HandleAsync(Message(), default);

        await _directory.Received(1).AddGroupMemberAsync(GroupId, UserId, Arg.Any<CancellationToken>());
        var outcome = Outcome();
        Assert.Equal(TicketStates.ClosedComplete, outcome["state"]);
        Assert.Equal($"EntraSnow: adele@contoso.example was added to the Entra ID group App - Payroll ({GroupId}).", outcome["work_notes"]);
    }

    [Fact]
    public async Task The_change_is_noted_as_the_tickets_before_Entra_is_written_so_the_change_record_names_the_ticket()
    {
        OwnChange? notedBeforeWrite = null;
        var ledger = new MembershipLedger(_checkpoints);
        _directory.AddGroupMemberAsync(GroupId, UserId, Arg.Any<CancellationToken>()).Returns(async _ =>
        {
            notedBeforeWrite = await ledger.GetOwnChangeAsync(GroupId, UserId, isMember: true, default);
            return true;
        });

        await Handler().HandleAsync(Message(), default);

        Assert.Equal((true, "RITM0010001"), (notedBeforeWrite!.IsMember, notedBeforeWrite.Ticket));
        Assert.NotNull(await ledger.GetOwnChangeAsync(GroupId, UserId, isMember: true, default));
    }

    [Fact]
    public async Task A_removal_removes_the_member()
    {
        _item["variables.action"] = "remove";

        await Handler().HandleAsync(Message(action: "remove"), default);

        await _directory.Received(1).RemoveGroupMemberAsync(GroupId, UserId, Arg.Any<CancellationToken>());
        Assert.Contains("was removed from the Entra ID group App - Payroll", Outcome()["work_notes"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_group_listed_by_id_is_allowed_whatever_its_name()
    {
        _options.AllowedGroupNamePrefix = null;
        _options.AllowedGroupIds.Add(GroupId.ToUpperInvariant());
        _directory.GetGroupAsync(GroupId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = GroupId, DisplayName = "Finance" });

        await Handler().HandleAsync(Message(), default);

        await _directory.Received(1).AddGroupMemberAsync(GroupId, UserId, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_group_not_on_the_allow_list_is_refused_with_a_work_note()
    {
        _directory.GetGroupAsync(GroupId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = GroupId, DisplayName = "Domain Admins" });

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("Domain Admins is not one EntraSnow may change from the catalog");
    }

    [Theory]
    [InlineData("requested")]
    [InlineData("rejected")]
    [InlineData("")]
    public async Task A_request_that_is_not_approved_is_refused_with_a_work_note(string approval)
    {
        _item["approval"] = approval;

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("the request is not approved");
    }

    [Fact]
    public async Task A_person_without_an_Entra_account_is_refused_with_a_work_note()
    {
        _directory.GetUserAsync(UserId, Arg.Any<CancellationToken>()).Returns((DirectoryUser?)null);
        _directory.GetUserAsync("adele@contoso.example", Arg.Any<CancellationToken>()).Returns((DirectoryUser?)null);

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("has no matching Entra ID account");
    }

    [Fact]
    public async Task A_group_that_does_not_come_from_Entra_is_refused_with_a_work_note()
    {
        _serviceNow.GetAsync("sys_user_group", SysGroup, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = SysGroup, ["u_entra_object_id"] = string.Empty }));

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("not an Entra ID group");
    }

    [Fact]
    public async Task A_webhook_naming_another_group_than_the_item_is_refused_with_a_work_note()
    {
        await Handler().HandleAsync(Message(group: "33333333333333333333333333333333"), default);

        await AssertRefusedAsync("different group or action");
    }

    [Fact]
    public async Task A_webhook_asking_to_add_where_the_item_asks_to_remove_is_refused_with_a_work_note()
    {
        _item["variables.action"] = "remove";

        await Handler().HandleAsync(Message(action: "add"), default);

        await AssertRefusedAsync("different group or action");
    }

    [Fact]
    public async Task A_closed_item_is_left_alone_on_redelivery()
    {
        _item["state"] = TicketStates.ClosedComplete;

        await Handler().HandleAsync(Message(), default);

        Assert.Empty(_updates);
        await _directory.DidNotReceiveWithAnyArgs().AddGroupMemberAsync(default!, default!, default);
    }

    [Fact]
    public async Task A_ticket_ServiceNow_does_not_have_fails_the_message_for_good()
    {
        _serviceNow.GetAsync("sc_req_item", ItemId, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>()).Returns((ServiceNowRecord?)null);

        await Assert.ThrowsAsync<PermanentFailureException>(() => Handler().HandleAsync(Message(), default));
    }

    [Fact]
    public void Allowed_group_ids_that_are_not_GUIDs_fail_validation_naming_the_setting()
    {
        var options = new AccessRequestOptions { AllowedGroupIds = ["Finance"] };

        var results = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        Assert.Contains(results, r => r.ErrorMessage!.Contains("AccessRequests:AllowedGroupIds", StringComparison.Ordinal));
    }
}
