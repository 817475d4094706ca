using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

public sealed class UserProvisioningTests
{
    private readonly ProvisioningWorld _world = new();

    [Fact]
    public async Task The_same_notification_three_times_gives_one_sys_user_and_one_write()
    {
        _world.AddDepartment("Sales");
        _world.AddUser("u1", "ada@contoso.com", department: "Sales");
        var writesBefore = _world.ServiceNow.Writes;
        var handler = _world.UserHandler();
        var message = ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1", messageId: "n-1");

        for (var i = 0; i < 3; i++)
        {
            await handler.HandleAsync(message, CancellationToken.None);
        }

        var user = Assert.Single(_world.SysUsers);
        Assert.Equal("ada@contoso.com", user["user_name"]);
        Assert.Equal("true", user["active"]);
        Assert.Equal(1, _world.ServiceNow.Writes - writesBefore);
        Assert.Equal([ProvisioningAction.Created, ProvisioningAction.Unchanged, ProvisioningAction.Unchanged],
            _world.Log.Entries.Select(e => e.Action));
    }

    [Fact]
    public async Task A_renamed_user_updates_the_same_record_with_only_the_changed_fields()
    {
        _world.AddUser("u1", "ada@contoso.com");
        var handler = _world.UserHandler();
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);
        var sysId = _world.SysUser("u1")["sys_id"];

        _world.Users["u1"] = _world.Users["u1"] with { UserPrincipalName = "ada.lovelace@contoso.com" };
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);

        var user = Assert.Single(_world.SysUsers);
        Assert.Equal(sysId, user["sys_id"]);
        Assert.Equal("ada.lovelace@contoso.com", user["user_name"]);
        var entry = _world.Log.Entries[^1];
        Assert.Equal(ProvisioningAction.Updated, entry.Action);
        Assert.Equal(["user_name"], entry.ChangedFields);
    }

    [Fact]
    public async Task A_department_missing_under_the_fail_policy_fails_that_user_with_the_reason_and_provisions_the_others()
    {
        _world.Options.Mappings["department"] = new AttributeMapping { OnMissingReference = MissingReferencePolicy.Fail };
        _world.AddDepartment("Sales");
        _world.AddUser("u1", "ada@contoso.com", department: "Sales");
        _world.AddUser("u2", "bob@contoso.com", department: "Research");
        _world.AddUser("u3", "cy@contoso.com", department: "Sales");
        foreach (var id in new[] { "u1", "u2", "u3" })
        {
            await _world.Queue.SendAsync(QueueNames.UserChanges, [ProvisioningWorld.Message(MessageKinds.UserUpdated, id)]);
        }

        await _world.DrainAsync();

        Assert.Equal(["u1", "u3"], _world.SysUsers.Select(u => u["u_entra_object_id"]).Order());
        var (message, reason) = Assert.Single(_world.DeadLettered);
        Assert.Equal("u2", message.SubjectId);
        Assert.Contains("cmn_department", reason);
        Assert.Contains("'Research'", reason);
        var failed = Assert.Single(_world.Log.Entries, e => e.Action == ProvisioningAction.Failed);
        Assert.Equal(reason, failed.Reason);
    }

    [Fact]
    public async Task A_user_replayed_right_after_its_missing_department_was_created_is_provisioned_with_it()
    {
        _world.Options.Mappings["department"] = new AttributeMapping { OnMissingReference = MissingReferencePolicy.Fail };
        _world.AddUser("u2", "bob@contoso.com", department: "Research");
        var mapper = _world.Mapper();
        var handler = _world.UserHandler(mapper);
        var message = ProvisioningWorld.Message(MessageKinds.UserUpdated, "u2");
        await Assert.ThrowsAsync<PermanentFailureException>(() => handler.HandleAsync(message, CancellationToken.None));

        // The operator creates the department a few seconds later: the miss is still remembered (10,000 users of one
        // missing department ask once a minute, not 10,000 times), so only the replay's forgetting lets the user through.
        var research = _world.AddDepartment("Research");
        _world.Clock.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<PermanentFailureException>(() => handler.HandleAsync(message, CancellationToken.None));
        ((IForgetFailuresOnReplay)mapper).ForgetFailures();
        await handler.HandleAsync(message with { Attempt = 0 }, CancellationToken.None);

        Assert.Equal(research, _world.SysUser("u2")["department"]);
        Assert.Equal(ProvisioningAction.Created, _world.Log.Entries[^1].Action);
    }

    [Fact]
    public async Task A_department_missing_under_the_leave_empty_policy_provisions_the_user_without_it()
    {
        _world.Options.Mappings["department"] = new AttributeMapping { OnMissingReference = MissingReferencePolicy.LeaveEmpty };
        _world.AddUser("u2", "bob@contoso.com", department: "Research");

        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u2"), CancellationToken.None);

        Assert.Equal(string.Empty, _world.SysUser("u2")["department"]);
        Assert.Contains("department left empty", _world.Log.Entries[^1].Reason);
    }

    [Fact]
    public async Task A_department_missing_is_created_by_default_and_referenced()
    {
        _world.AddUser("u2", "bob@contoso.com", department: "Research");

        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u2"), CancellationToken.None);

        var department = Assert.Single(_world.ServiceNow.Records("cmn_department"));
        Assert.Equal("Research", department["name"]);
        Assert.Equal(department["sys_id"], _world.SysUser("u2")["department"]);
    }

    [Fact]
    public async Task A_disabled_user_is_deactivated_and_locked_out_and_a_re_enabled_user_comes_back()
    {
        _world.AddUser("u1", "ada@contoso.com");
        var handler = _world.UserHandler();
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);

        _world.Users["u1"] = _world.Users["u1"] with { AccountEnabled = false };
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);
        Assert.Equal("false", _world.SysUser("u1")["active"]);
        Assert.Equal("true", _world.SysUser("u1")["locked_out"]);
        Assert.Equal(ProvisioningAction.Deactivated, _world.Log.Entries[^1].Action);
        Assert.Equal("account disabled in Entra ID", _world.Log.Entries[^1].Reason);

        _world.Users["u1"] = _world.Users["u1"] with { AccountEnabled = true };
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);
        var user = Assert.Single(_world.SysUsers);
        Assert.Equal("true", user["active"]);
        Assert.Equal("false", user["locked_out"]);
        Assert.StartsWith("reactivated", _world.Log.Entries[^1].Reason);
    }

    [Fact]
    public async Task A_disabled_user_in_scope_is_created_inactive_so_it_can_still_be_referenced()
    {
        _world.AddUser("u1", "ada@contoso.com", enabled: false);

        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);

        Assert.Equal("false", _world.SysUser("u1")["active"]);
        Assert.Equal("true", _world.SysUser("u1")["locked_out"]);
        Assert.Equal("created inactive: account disabled in Entra ID", _world.Log.Entries[^1].Reason);
    }

    [Fact]
    public async Task A_permanently_deleted_user_is_deactivated_and_never_deleted_even_when_a_late_update_arrives()
    {
        _world.AddUser("u1", "ada@contoso.com");
        var handler = _world.UserHandler();
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);

        _world.Users.Remove("u1");
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserDeleted, "u1"), CancellationToken.None);
        // Out of order: the update notification that preceded the delete arrives last.
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);

        var user = Assert.Single(_world.SysUsers);
        Assert.Equal("false", user["active"]);
        Assert.Equal("true", user["locked_out"]);
        Assert.Equal([ProvisioningAction.Created, ProvisioningAction.Deactivated, ProvisioningAction.Unchanged],
            _world.Log.Entries.Select(e => e.Action));
    }

    [Fact]
    public async Task A_user_who_leaves_the_assigned_groups_is_deprovisioned()
    {
        _world.Options.ScopeGroupIds.Add("g-servicenow");
        _world.AddUser("u1", "ada@contoso.com");
        _world.UserGroups["u1"] = ["g-servicenow"];
        var handler = _world.UserHandler();
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);
        Assert.Equal("true", _world.SysUser("u1")["active"]);

        _world.UserGroups["u1"] = ["g-other"];
        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);

        Assert.Equal("false", _world.SysUser("u1")["active"]);
        Assert.Equal("out of scope: not a direct member of any assigned group", _world.Log.Entries[^1].Reason);
    }

    [Fact]
    public async Task A_user_failing_an_attribute_rule_is_skipped_with_the_rule_as_the_reason()
    {
        _world.Options.ScopeRules.Add(new ScopeRule { Attribute = "userType", Value = "Member" });
        _world.Users["g1"] = _world.AddUser("g1", "guest@fabrikam.com") with { UserType = "Guest" };

        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "g1"), CancellationToken.None);

        Assert.Empty(_world.SysUsers);
        var entry = Assert.Single(_world.Log.Entries);
        Assert.Equal(ProvisioningAction.Skipped, entry.Action);
        Assert.Contains("userType is 'Guest'", entry.Reason);
    }

    [Fact]
    public async Task An_empty_matching_value_fails_the_user_with_a_clear_reason()
    {
        _world.Options.MatchingAttribute = "employeeId";
        _world.Options.MatchingField = "employee_number";
        _world.AddUser("u1", "ada@contoso.com");

        var ex = await Assert.ThrowsAsync<PermanentFailureException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None));

        Assert.Contains("employeeId is empty", ex.Message);
        Assert.Empty(_world.SysUsers);
        Assert.Equal(ProvisioningAction.Failed, Assert.Single(_world.Log.Entries).Action);
    }

    [Fact]
    public async Task A_user_Graph_returns_without_an_id_fails_that_user_at_once_instead_of_being_retried()
    {
        _world.Directory.GetUserAsync("u1", Arg.Any<CancellationToken>())
            .Returns(Task.FromException<DirectoryUser?>(new GraphMalformedItemException("Graph returned a user without an id.")));

        var ex = await Assert.ThrowsAsync<PermanentFailureException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None));

        Assert.Contains("without an id", ex.Message);
        Assert.Empty(_world.SysUsers);
    }

    [Fact]
    public async Task Refused_ServiceNow_credentials_pause_the_connector_instead_of_failing_the_user()
    {
        _world.AddUser("u1", "ada@contoso.com");
        _world.ServiceNow.FailWith = new ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials.");

        var paused = await Assert.ThrowsAsync<ConnectorUnavailableException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1", attempt: 14), CancellationToken.None));

        Assert.Equal("serviceNow", paused.Connector);
        Assert.DoesNotContain(_world.Log.Entries, e => e.Action == ProvisioningAction.Failed);
    }

    [Fact]
    public async Task A_manager_not_yet_provisioned_is_set_once_the_manager_exists()
    {
        _world.AddUser("boss", "boss@contoso.com");
        _world.AddUser("u1", "ada@contoso.com", managerId: "boss");

        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None);
        Assert.Null(_world.SysUser("u1").GetValueOrDefault("manager"));
        Assert.Contains("resolved later", _world.Log.Entries[^1].Reason);
        var followUp = Assert.Single(_world.Queue.Scheduled);
        Assert.Equal(_world.Clock.GetUtcNow() + _world.Options.FollowUpDelay, followUp.VisibleAt);

        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "boss"), CancellationToken.None);
        await _world.DrainAsync();

        Assert.Equal(_world.SysUser("boss")["sys_id"], _world.SysUser("u1")["manager"]);
        Assert.Equal(2, _world.SysUsers.Count);
    }

    /// <summary>A user.sync as the full sync queues it when it knows the manager's sys_user.</summary>
    private static ChangeMessage SyncMessageNamingManager(string userId, string managerId, string managerSysId)
    {
        var message = ProvisioningWorld.Message(MessageKinds.UserSync, userId);
        return message with
        {
            Properties = new Dictionary<string, string>(message.Properties)
            {
                [ProvisioningMessageProperties.ManagerObjectId] = managerId,
                [ProvisioningMessageProperties.ManagerSysId] = managerSysId,
            },
        };
    }

    [Fact]
    public async Task A_report_queued_by_the_sync_with_its_managers_record_gets_that_manager_without_a_follow_up()
    {
        _world.AddUser("u1", "ada@contoso.com", managerId: "boss");
        var message = SyncMessageNamingManager("u1", "boss", "sys-of-boss");

        await _world.UserHandler().HandleAsync(message, CancellationToken.None);

        Assert.Equal("sys-of-boss", _world.SysUser("u1")["manager"]);
        Assert.Empty(_world.Queue.Scheduled);
    }

    [Fact]
    public async Task A_managers_record_the_sync_read_is_not_used_once_Entra_names_another_manager()
    {
        _world.AddUser("u1", "ada@contoso.com", managerId: "new-boss");
        var message = SyncMessageNamingManager("u1", "old-boss", "sys-of-old-boss");

        await _world.UserHandler().HandleAsync(message, CancellationToken.None);

        Assert.Null(_world.SysUser("u1").GetValueOrDefault("manager"));
        Assert.Contains("resolved later", _world.Log.Entries[^1].Reason);
        var followUp = Assert.Single(_world.Queue.Scheduled);
        Assert.False(followUp.Message.Properties.ContainsKey(ProvisioningMessageProperties.ManagerSysId));
    }

    [Fact]
    public async Task A_ServiceNow_outage_is_a_transient_failure_and_nothing_is_logged_until_the_last_attempt()
    {
        _world.AddUser("u1", "ada@contoso.com");
        _world.ServiceNow.FailWith = new ServiceNowUnreachableException("connection refused");

        var ex = await Assert.ThrowsAsync<TransientFailureException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None));
        Assert.Contains("connection refused", ex.Message);
        Assert.Empty(_world.Log.Entries);

        await Assert.ThrowsAsync<TransientFailureException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1", attempt: _world.Messaging.MaxAttempts - 1), CancellationToken.None));
        var entry = Assert.Single(_world.Log.Entries);
        Assert.Equal(ProvisioningAction.Failed, entry.Action);
        Assert.Contains($"still failing after {_world.Messaging.MaxAttempts} attempts", entry.Reason);
    }

    [Fact]
    public async Task Graph_being_unavailable_is_a_transient_failure_that_keeps_the_wait_Graph_asked_for()
    {
        _world.Directory.GetUserAsync("u1", Arg.Any<CancellationToken>())
            .Returns<DirectoryUser?>(_ => throw new GraphUnavailableException("throttled", retryAfter: TimeSpan.FromMinutes(2)));

        var ex = await Assert.ThrowsAsync<TransientFailureException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None));

        Assert.Equal(TimeSpan.FromMinutes(2), ex.RetryAfter);
    }

    [Fact]
    public async Task A_rejected_write_dead_letters_with_ServiceNow_s_own_explanation()
    {
        _world.AddUser("u1", "ada@contoso.com");
        _world.ServiceNow.FailWith = new ServiceNowRequestException("Operation Failed", 403, "ACL denies sys_user.create");

        var ex = await Assert.ThrowsAsync<PermanentFailureException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1"), CancellationToken.None));

        Assert.Contains("ACL denies sys_user.create", ex.Message);
    }

    [Fact]
    public async Task Onboarding_and_offboarding_records_are_raised_once_each_when_enabled()
    {
        _world.Options.Onboarding.Enabled = true;
        _world.Options.Offboarding.Enabled = true;
        _world.AddUser("u1", "ada@contoso.com");
        var handler = _world.UserHandler();
        var created = ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1");
        await handler.HandleAsync(created, CancellationToken.None);
        await handler.HandleAsync(created, CancellationToken.None);

        _world.Users["u1"] = _world.Users["u1"] with { AccountEnabled = false };
        var disabled = ProvisioningWorld.Message(MessageKinds.UserUpdated, "u1");
        await handler.HandleAsync(disabled, CancellationToken.None);
        await handler.HandleAsync(disabled, CancellationToken.None);

        var request = Assert.Single(_world.ServiceNow.Records("sc_req_item"));
        Assert.Equal(_world.SysUser("u1")["sys_id"], request["requested_for"]);
        var task = Assert.Single(_world.ServiceNow.Records("sc_task"));
        Assert.StartsWith("Offboarding", task["short_description"]);
    }

    [Fact]
    public async Task A_message_of_another_kind_is_refused_rather_than_ignored()
    {
        await Assert.ThrowsAsync<PermanentFailureException>(() =>
            _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupUpdated, "g1"), CancellationToken.None));
    }
}
