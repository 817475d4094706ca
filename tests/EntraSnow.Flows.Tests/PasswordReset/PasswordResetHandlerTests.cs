using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.CatalogTickets;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.PasswordReset;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Flows.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Tests.PasswordReset;

/// <summary>
/// The password-reset consumer's rules with the ports faked: each refusal leaves a work note and the item closed
/// incomplete and creates no pass; an e-mail that cannot be sent leaves no usable pass behind. The end-to-end tests
/// against the emulators are in EntraSnow.LocalHost.Tests.
/// </summary>
public sealed class PasswordResetHandlerTests
{
    private const string ItemId = "0123456789abcdef0123456789abcdef";
    private const string SysUser = "11111111111111111111111111111111";
    private const string SysRequester = "33333333333333333333333333333333";
    private const string UserId = "0f6c9a4e-7d2b-4c1a-9e8f-1a2b3c4d5e6f";
    private const string ManagerId = "7b0d2c4e-1a3f-4e5d-8c9b-2a1b0c9d8e7f";
    private const string RequesterId = "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b";
    private const string ProtectedGroup = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a";
    private const string GlobalAdministrator = "62e90394-69f5-4237-9190-012177145e10";
    private const string Pass = "Tap-7hK2#pQ9";

    private readonly IServiceNowTable _serviceNow = Substitute.For<IServiceNowTable>();
    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly IUserPrivileges _privileges = Substitute.For<IUserPrivileges>();
    private readonly IMailSender _mail = Substitute.For<IMailSender>();
    private readonly RecordingLogger<PasswordResetHandler> _logs = new();
    private readonly PasswordResetOptions _options = new() { SendFrom = "service-desk@contoso.example" };
    private readonly Dictionary<string, string?> _item = new()
    {
        ["sys_id"] = ItemId,
        ["number"] = "RITM0010001",
        ["state"] = "1",
        ["active"] = "true",
        ["approval"] = "approved",
        ["requested_for"] = SysUser,
        ["opened_by"] = SysUser,
    };

    private readonly Dictionary<string, string?> _sysUser = new() { ["sys_id"] = SysUser, ["u_entra_object_id"] = UserId, ["user_name"] = "adele@contoso.example" };
    private readonly List<IReadOnlyDictionary<string, string?>> _updates = [];
    private readonly List<MailMessage> _sent = [];

    public PasswordResetHandlerTests()
    {
        _serviceNow.GetAsync("sc_req_item", ItemId, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns(_ => new ServiceNowRecord(_item));
        _serviceNow.GetAsync("sys_user", SysUser, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns(_ => new ServiceNowRecord(_sysUser));
        _serviceNow.GetAsync("sys_user", SysRequester, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = SysRequester, ["u_entra_object_id"] = RequesterId, ["user_name"] = "megan@contoso.example" }));
        _serviceNow.QueryAsync(default!, default!, (IReadOnlyList<string>?)default, default).ReturnsForAnyArgs(AsyncEnumerable.Empty<ServiceNowRecord>());
        _serviceNow.UpdateAsync("sc_req_item", ItemId, Arg.Do<IReadOnlyDictionary<string, string?>>(_updates.Add), Arg.Any<CancellationToken>())
            .Returns(_ => new ServiceNowRecord(_item));
        _directory.GetUserAsync(UserId, Arg.Any<CancellationToken>())
            .Returns(new DirectoryUser { Id = UserId, UserPrincipalName = "adele@contoso.example", DisplayName = "Adele Vance", ManagerId = ManagerId });
        _directory.GetUserAsync(ManagerId, Arg.Any<CancellationToken>())
            .Returns(new DirectoryUser { Id = ManagerId, UserPrincipalName = "miriam@contoso.example", Mail = "miriam@contoso.example" });
        _directory.GetUserAsync(RequesterId, Arg.Any<CancellationToken>())
            .Returns(new DirectoryUser { Id = RequesterId, UserPrincipalName = "megan@contoso.example" });
        _directory.GetUserGroupIdsAsync(UserId, Arg.Any<CancellationToken>()).Returns([ProtectedGroup]);
        _directory.CreateTemporaryAccessPassAsync(UserId, Arg.Any<int>(), Arg.Any<bool>(), Arg.Any<CancellationToken>())
            .Returns(new TemporaryAccessPass("tap-method-1", Pass, DateTimeOffset.UnixEpoch, 60, true));
        _privileges.GetAsync(UserId, Arg.Any<CancellationToken>()).Returns(new UserPrivileges(false, []));
        _mail.SendAsync(Arg.Do<MailMessage>(_sent.Add), Arg.Any<CancellationToken>()).Returns(Task.CompletedTask);
    }

    private PasswordResetHandler Handler() => new(
        new CatalogTicketStore(_serviceNow, _directory, Options.Create(new ProvisioningOptions()), NullLogger<CatalogTicketStore>.Instance),
        _directory, _privileges, _mail, Options.Create(_options), _logs);

    private static ChangeMessage Message(string requestedBy = SysUser) => new()
    {
        MessageId = $"{MessageKinds.PasswordReset}:sc_req_item:{ItemId}",
        SessionKey = SysUser,
        Kind = MessageKinds.PasswordReset,
        TenantId = "servicenow",
        SubjectId = ItemId,
        ChangedAt = DateTimeOffset.UnixEpoch,
        CorrelationId = "c1",
        Properties = new Dictionary<string, string>
        {
            [ServiceNowWebhookIntake.Properties.Table] = "sc_req_item",
            [ServiceNowWebhookIntake.Properties.Number] = "RITM0010001",
            [ServiceNowWebhookIntake.Properties.RequestedFor] = SysUser,
            [ServiceNowWebhookIntake.Properties.RequestedBy] = requestedBy,
        },
    };

    private async Task AssertRefusedAsync(string why)
    {
        var outcome = Assert.Single(_updates);
        Assert.Equal(TicketStates.ClosedIncomplete, outcome["state"]);
        Assert.StartsWith("EntraSnow did not complete the password reset: ", outcome["work_notes"], StringComparison.Ordinal);
        Assert.Contains(why, outcome["work_notes"], StringComparison.Ordinal);
        await AssertNothingResetAsync();
    }

    private async Task AssertNothingResetAsync()
    {
        await _directory.DidNotReceiveWithAnyArgs().CreateTemporaryAccessPassAsync(default!, default, default, default);
        await _directory.DidNotReceiveWithAnyArgs().ResetPasswordAsync(default!, default!, default, default);
        Assert.Empty(_sent);
    }

    private void AssertPassNowhereButTheMail()
    {
        Assert.DoesNotContain(_updates.SelectMany(u => u.Values), v => v?.Contains(Pass, StringComparison.Ordinal) == true);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(Pass, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reset_mails_the_pass_to_the_manager_and_closes_the_item_complete_naming_where_it_went()
    {
        await Handler().HandleAsync(Message(), default);

        var mail = Assert.Single(_sent);
        Assert.Equal(("service-desk@contoso.example", "miriam@contoso.example"), (mail.FromMailbox, mail.To));
        Assert.Contains($"Temporary Access Pass: {Pass}", mail.Body, StringComparison.Ordinal);
        var outcome = Assert.Single(_updates);
        Assert.Equal(TicketStates.ClosedComplete, outcome["state"]);
        Assert.Contains("e-mailed to miriam@contoso.example (the user's manager)", outcome["work_notes"], StringComparison.Ordinal);
        AssertPassNowhereButTheMail();
    }

    [Fact]
    public async Task A_directory_role_holder_is_refused_with_a_work_note_and_no_pass()
    {
        _privileges.GetAsync(UserId, Arg.Any<CancellationToken>()).Returns(new UserPrivileges(false, [GlobalAdministrator]));

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("the account holds a directory role");
    }

    [Fact]
    public async Task A_member_of_a_protected_group_is_refused_with_a_work_note_and_no_pass()
    {
        _options.ProtectedGroupIds = [ProtectedGroup];

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("the account is in a protected group");
    }

    [Fact]
    public async Task An_account_synchronised_from_on_premises_is_refused_with_a_work_note_and_no_pass()
    {
        _privileges.GetAsync(UserId, Arg.Any<CancellationToken>()).Returns(new UserPrivileges(true, []));

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("synchronised from on-premises Active Directory; its password is reset there");
    }

    [Fact]
    public async Task A_requester_who_is_not_the_user_their_manager_or_an_entitled_role_holder_is_refused_with_a_work_note_and_no_pass()
    {
        _item["opened_by"] = SysRequester;
        _options.EntitledRoles = ["password_admin"];

        await Handler().HandleAsync(Message(requestedBy: SysRequester), default);

        await AssertRefusedAsync("the requester is not entitled");
    }

    [Fact]
    public async Task A_holder_of_an_entitled_ServiceNow_role_may_ask_for_someone_else()
    {
        _item["opened_by"] = SysRequester;
        _options.EntitledRoles = ["password_admin"];
        _serviceNow.FindAsync("sys_user_role", Arg.Any<EncodedQuery>(), Arg.Any<IReadOnlyList<string>?>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "role-1" }));
        _serviceNow.FindAsync("sys_user_has_role", Arg.Any<EncodedQuery>(), Arg.Any<IReadOnlyList<string>?>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "grant-1" }));

        await Handler().HandleAsync(Message(requestedBy: SysRequester), default);

        Assert.Equal(TicketStates.ClosedComplete, Assert.Single(_updates)["state"]);
        Assert.Single(_sent);
    }

    [Fact]
    public async Task A_person_with_no_matching_Entra_account_is_refused_with_a_work_note_and_no_pass()
    {
        _sysUser["u_entra_object_id"] = "";
        _sysUser["user_name"] = "adele.vance";

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("the person it is for has no matching Entra ID account");
    }

    [Fact]
    public async Task An_item_that_names_someone_else_than_the_request_is_refused_with_a_work_note_and_no_pass()
    {
        _item["requested_for"] = SysRequester;

        await Handler().HandleAsync(Message(), default);

        await AssertRefusedAsync("The request was for a different person than the ticket's Requested for.");
    }

    [Fact]
    public async Task A_ticket_ServiceNow_does_not_have_fails_the_message_for_good_and_nothing_is_reset()
    {
        _serviceNow.GetAsync("sc_req_item", ItemId, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>()).Returns((ServiceNowRecord?)null);

        var failure = await Assert.ThrowsAsync<PermanentFailureException>(() => Handler().HandleAsync(Message(), default));

        Assert.Contains("RITM0010001", failure.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist in ServiceNow", failure.Message, StringComparison.Ordinal);
        Assert.Empty(_updates);
        await AssertNothingResetAsync();
    }

    [Fact]
    public async Task A_ticket_EntraSnow_may_not_read_fails_the_message_for_good_and_nothing_is_reset()
    {
        _serviceNow.GetAsync("sc_req_item", ItemId, Arg.Any<IReadOnlyList<string>>(), Arg.Any<CancellationToken>())
            .Returns<ServiceNowRecord?>(_ => throw new ServiceNowException("ACL denies read of sc_req_item", 403, "User Not Authorized"));

        var failure = await Assert.ThrowsAsync<PermanentFailureException>(() => Handler().HandleAsync(Message(), default));

        Assert.Contains("403", failure.Message, StringComparison.Ordinal);
        Assert.Empty(_updates);
        await AssertNothingResetAsync();
    }

    [Fact]
    public async Task A_pass_whose_mail_cannot_be_sent_is_deleted_and_the_item_closed_incomplete_saying_delivery_failed()
    {
        _mail.SendAsync(Arg.Any<MailMessage>(), Arg.Any<CancellationToken>())
            .Returns(_ => throw new GraphUnavailableException("Graph kept answering 503 for POST sendMail"));

        await Handler().HandleAsync(Message(), default);

        await _directory.Received(1).DeleteTemporaryAccessPassAsync(UserId, "tap-method-1", Arg.Any<CancellationToken>());
        var outcome = Assert.Single(_updates);
        Assert.Equal(TicketStates.ClosedIncomplete, outcome["state"]);
        Assert.Contains("the Temporary Access Pass could not be e-mailed to miriam@contoso.example", outcome["work_notes"], StringComparison.Ordinal);
        Assert.Contains("It was deleted at once, so none is in effect: ask again.", outcome["work_notes"], StringComparison.Ordinal);
        AssertPassNowhereButTheMail();
    }

    [Fact]
    public async Task A_mail_Graph_refuses_also_deletes_the_pass_and_the_note_says_what_Graph_answered()
    {
        _mail.SendAsync(Arg.Any<MailMessage>(), Arg.Any<CancellationToken>())
            .Returns(_ => throw new GraphRequestException("Access to OData is disabled.", 403, "ErrorAccessDenied"));

        await Handler().HandleAsync(Message(), default);

        await _directory.Received(1).DeleteTemporaryAccessPassAsync(UserId, "tap-method-1", Arg.Any<CancellationToken>());
        Assert.Contains("Graph refused the e-mail (403 ErrorAccessDenied)", Assert.Single(_updates)["work_notes"], StringComparison.Ordinal);
        AssertPassNowhereButTheMail();
    }

    [Fact]
    public async Task A_pass_that_can_be_neither_mailed_nor_deleted_is_named_by_method_id_for_an_administrator_never_by_its_value()
    {
        _mail.SendAsync(Arg.Any<MailMessage>(), Arg.Any<CancellationToken>()).Returns(_ => throw new GraphUnavailableException("sendMail unavailable"));
        _directory.DeleteTemporaryAccessPassAsync(UserId, "tap-method-1", Arg.Any<CancellationToken>())
            .Returns(_ => throw new GraphUnavailableException("DELETE unavailable"));

        await Handler().HandleAsync(Message(), default);

        var outcome = Assert.Single(_updates);
        Assert.Equal(TicketStates.ClosedIncomplete, outcome["state"]);
        Assert.Contains("could not be deleted either: an administrator should delete it", outcome["work_notes"], StringComparison.Ordinal);
        Assert.Contains("method id tap-method-1", outcome["work_notes"], StringComparison.Ordinal);
        AssertPassNowhereButTheMail();
    }

    [Fact]
    public async Task A_new_password_that_cannot_be_mailed_is_reported_as_set_and_unknown_to_anyone()
    {
        _options.Method = ResetMethod.Password;
        _mail.SendAsync(Arg.Any<MailMessage>(), Arg.Any<CancellationToken>()).Returns(_ => throw new GraphUnavailableException("sendMail unavailable"));

        await Handler().HandleAsync(Message(), default);

        await _directory.Received(1).ResetPasswordAsync(UserId, Arg.Any<string>(), true, Arg.Any<CancellationToken>());
        await _directory.DidNotReceiveWithAnyArgs().DeleteTemporaryAccessPassAsync(default!, default!, default);
        var outcome = Assert.Single(_updates);
        Assert.Equal(TicketStates.ClosedIncomplete, outcome["state"]);
        Assert.Contains("the new password was set but could not be e-mailed", outcome["work_notes"], StringComparison.Ordinal);
        Assert.Contains("Nobody has it: ask again for a reset.", outcome["work_notes"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_host_stopping_during_the_mail_deletes_the_pass_and_leaves_the_request_to_be_delivered_again()
    {
        using var stopping = new CancellationTokenSource();
        _mail.SendAsync(Arg.Any<MailMessage>(), Arg.Any<CancellationToken>()).Returns(_ =>
        {
            stopping.Cancel();
            throw new OperationCanceledException(stopping.Token);
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Handler().HandleAsync(Message(), stopping.Token));

        await _directory.Received(1).DeleteTemporaryAccessPassAsync(UserId, "tap-method-1", Arg.Is<CancellationToken>(t => !t.IsCancellationRequested));
        Assert.Empty(_updates);
    }
}
