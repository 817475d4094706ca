using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Provisioning.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

public sealed class GroupChangeRecordTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";
    private const string AuditorsId = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e7f";

    private readonly ProvisioningWorld _world = new();

    public GroupChangeRecordTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers" });
    }

    private async Task ProvisionAsync(string userId) =>
        await _world.UserHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.UserUpdated, userId), CancellationToken.None);

    /// <summary>One delta run over the given page (the first run of a world reads from scratch and sets the baseline).</summary>
    private async Task DeltaAsync(DirectoryGroup item, string link, string messageId)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([item], link));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", messageId), CancellationToken.None);
    }

    private Task BaselineAsync(params string[] members) =>
        DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = members }, "link-0", "baseline");

    private Task AddedAsync(string memberId, string link = "link-1", string messageId = "delta-1") =>
        DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [memberId] }, link, messageId);

    private Task RemovedAsync(string memberId, string link = "link-2", string messageId = "delta-2") =>
        DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersRemoved = [memberId] }, link, messageId);

    [Fact]
    public async Task A_member_added_after_the_baseline_becomes_one_change_record_that_names_group_member_and_sys_user()
    {
        await ProvisionAsync(AdeleId);
        await BaselineAsync(AlexId);
        Assert.Empty(_world.ChangeRequests);

        await AddedAsync(AdeleId);

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: adele@contoso.com added to Finance-Approvers", record["short_description"]);
        Assert.Equal("standard", record["type"]);
        Assert.Equal("Other", record["category"]);
        Assert.StartsWith("entra-group:", record["correlation_id"]);
        var description = record["description"]!;
        Assert.Contains($"Finance-Approvers (object id {FinanceId})", description);
        Assert.Contains($"adele@contoso.com (object id {AdeleId}; sys_user {_world.SysUser(AdeleId)["sys_id"]})", description);
        Assert.Contains("Observed: 2026-11-24 08:00:00 UTC", description);
        Assert.Contains("Changed by: actor not read", description);
    }

    [Fact]
    public async Task The_same_delta_delivered_three_times_records_each_change_once()
    {
        await BaselineAsync(AlexId);

        for (var delivery = 1; delivery <= 3; delivery++)
        {
            await AddedAsync(AdeleId, messageId: $"delivery-{delivery}");
        }

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal($"entra-group:{FinanceId}:{AdeleId}:added:1", record["correlation_id"]);
    }

    /// <summary>A run that stops just before it would write <paramref name="value"/> under <paramref name="key"/> (a killed process).</summary>
    private async Task DiesBeforeWritingAsync(string key, string value, Func<Task> run)
    {
        _world.Checkpoints.BeforeWrite = (k, v) =>
        {
            if (k == key && v == value)
            {
                throw new IOException("killed");
            }
        };
        await Assert.ThrowsAsync<IOException>(run);
        _world.Checkpoints.BeforeWrite = null;
    }

    /// <summary>A run whose ServiceNow calls fail from the moment the ledger notes a pending transition (killed between the note and the create).</summary>
    private async Task DiesAfterNotingAsync(Func<Task> run)
    {
        _world.Checkpoints.BeforeWrite = (_, v) =>
        {
            if (v.EndsWith(":pending", StringComparison.Ordinal))
            {
                _world.ServiceNow.FailWith = new ServiceNowUnreachableException("killed");
            }
        };
        await Assert.ThrowsAnyAsync<Exception>(run);
        _world.Checkpoints.BeforeWrite = null;
        _world.ServiceNow.FailWith = null;
    }

    private int ChangeRequestLookups => _world.ServiceNow.Queries.Count(q => q.Table == MembershipChangeRecorder.Table);

    [Fact]
    public async Task A_change_costs_one_ServiceNow_call_on_change_request_its_create_and_no_lookup()
    {
        await BaselineAsync(AlexId);

        await AddedAsync(AdeleId);
        await RemovedAsync(AdeleId);

        Assert.Equal(2, _world.ChangeRequests.Count);
        Assert.Equal(0, ChangeRequestLookups);
        Assert.Equal("out:2", _world.Checkpoints.Values[MembershipLedger.Key(FinanceId, AdeleId)]);
    }

    [Fact]
    public async Task A_run_that_died_after_its_ServiceNow_write_finds_its_record_instead_of_writing_a_second()
    {
        await BaselineAsync(AlexId);
        var ledgerKey = MembershipLedger.Key(FinanceId, AdeleId);

        // The process dies between the ServiceNow write and the ledger's.
        await DiesBeforeWritingAsync(ledgerKey, "in:1", () => AddedAsync(AdeleId));
        Assert.Single(_world.ChangeRequests);

        await AddedAsync(AdeleId, messageId: "redelivered");

        Assert.Single(_world.ChangeRequests);
        Assert.Equal("in:1", _world.Checkpoints.Values[ledgerKey]);
        Assert.Equal(1, ChangeRequestLookups);
    }

    [Fact]
    public async Task A_run_that_died_before_its_ServiceNow_write_writes_the_record_when_redelivered()
    {
        await BaselineAsync(AlexId);

        await DiesAfterNotingAsync(() => AddedAsync(AdeleId));
        Assert.Empty(_world.ChangeRequests);

        await AddedAsync(AdeleId, messageId: "redelivered");

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal($"entra-group:{FinanceId}:{AdeleId}:added:1", record["correlation_id"]);
        Assert.Equal("in:1", _world.Checkpoints.Values[MembershipLedger.Key(FinanceId, AdeleId)]);
    }

    [Fact]
    public async Task A_member_removed_after_a_run_died_with_their_addition_recorded_gets_the_removal_recorded_too()
    {
        await BaselineAsync(AlexId);
        await DiesBeforeWritingAsync(MembershipLedger.Key(FinanceId, AdeleId), "in:1", () => AddedAsync(AdeleId));

        // By the time the delta is read again Adele is gone: her addition has its record, so her removal needs one.
        await RemovedAsync(AdeleId);

        Assert.Equal(
            ["Entra ID: adele@contoso.com added to Finance-Approvers", "Entra ID: adele@contoso.com removed from Finance-Approvers"],
            _world.ChangeRequests.Select(r => r["short_description"]));
        Assert.EndsWith(":removed:2", _world.ChangeRequests[1]["correlation_id"]);
        Assert.Equal("out:2", _world.Checkpoints.Values[MembershipLedger.Key(FinanceId, AdeleId)]);
    }

    [Fact]
    public async Task A_member_removed_after_a_run_died_before_recording_their_addition_leaves_no_record_and_a_clean_ledger()
    {
        await BaselineAsync(AlexId);
        await DiesAfterNotingAsync(() => AddedAsync(AdeleId));

        // In and out again before any record said so: nothing the records showed has changed.
        await RemovedAsync(AdeleId);
        await AddedAsync(AdeleId, "link-3", "delta-3");

        Assert.Equal([$"entra-group:{FinanceId}:{AdeleId}:added:1"], _world.ChangeRequests.Select(r => r["correlation_id"]));
        Assert.Equal("in:1", _world.Checkpoints.Values[MembershipLedger.Key(FinanceId, AdeleId)]);
    }

    [Fact]
    public async Task A_member_whose_addition_was_pending_and_who_is_gone_when_the_group_is_read_in_full_gets_a_removal_record()
    {
        await BaselineAsync(AlexId);
        await DiesBeforeWritingAsync(MembershipLedger.Key(FinanceId, AdeleId), "in:1", () => AddedAsync(AdeleId));

        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AlexId] }], "l") { IsFullResync = true });
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups", "full"), CancellationToken.None);

        Assert.Equal([$"entra-group:{FinanceId}:{AdeleId}:added:1", $"entra-group:{FinanceId}:{AdeleId}:removed:2"],
            _world.ChangeRequests.Select(r => r["correlation_id"]));
    }

    [Fact]
    public async Task Added_then_removed_gives_two_records_in_order()
    {
        await BaselineAsync(AlexId);

        await AddedAsync(AdeleId);
        _world.Clock.Advance(TimeSpan.FromSeconds(20));
        await RemovedAsync(AdeleId);

        Assert.Equal(
            ["Entra ID: adele@contoso.com added to Finance-Approvers", "Entra ID: adele@contoso.com removed from Finance-Approvers"],
            _world.ChangeRequests.Select(r => r["short_description"]));
        Assert.Equal(2, _world.ChangeRequests.Select(r => r["correlation_id"]).Distinct().Count());
    }

    [Fact]
    public async Task Added_removed_and_added_again_records_the_third_change_too()
    {
        await BaselineAsync(AlexId);

        await AddedAsync(AdeleId, "l1", "d1");
        await RemovedAsync(AdeleId, "l2", "d2");
        await AddedAsync(AdeleId, "l3", "d3");
        await AddedAsync(AdeleId, "l3", "d3-again");

        Assert.Equal(3, _world.ChangeRequests.Count);
        Assert.EndsWith(":added:3", _world.ChangeRequests[2]["correlation_id"]);
    }

    [Fact]
    public async Task The_first_reading_sets_the_baseline_unless_initial_memberships_are_wanted_as_changes()
    {
        await BaselineAsync(AlexId, AdeleId);
        Assert.Empty(_world.ChangeRequests);

        var other = new ProvisioningWorld();
        other.AddUser(AdeleId, "adele@contoso.com");
        other.GroupChanges.RecordInitialMemberships = true;
        other.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AdeleId] }], "l"));
        await other.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);
        Assert.Equal("Entra ID: adele@contoso.com added to Finance-Approvers", Assert.Single(other.ChangeRequests)["short_description"]);
    }

    [Fact]
    public async Task A_full_reading_after_the_baseline_records_only_members_that_really_changed()
    {
        await BaselineAsync(AlexId);

        // An expired delta token: Graph is read from scratch and lists every member again.
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [AlexId, AdeleId] }], "l") { IsFullResync = true });
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);

        Assert.Equal("Entra ID: adele@contoso.com added to Finance-Approvers", Assert.Single(_world.ChangeRequests)["short_description"]);
    }

    [Fact]
    public async Task A_nested_group_added_is_recorded_by_its_name()
    {
        _world.Directory.GetGroupAsync(AuditorsId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = AuditorsId, DisplayName = "Auditors" });
        await BaselineAsync(AlexId);

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", NestedGroupsAdded = [AuditorsId] }, "l1", "d1");

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("Entra ID: Auditors added to Finance-Approvers", record["short_description"]);
        Assert.Contains($"group Auditors (object id {AuditorsId})", record["description"]);
        Assert.Empty(_world.ServiceNow.Records("sys_user_grmember"));
    }

    [Fact]
    public async Task A_group_under_the_approve_policy_gets_a_normal_change_waiting_in_Authorize()
    {
        _world.GroupChanges.SensitiveGroups.Add(new SensitiveGroup { GroupId = FinanceId, Policy = "approve" });
        await BaselineAsync(AlexId);

        await AddedAsync(AdeleId);

        var record = Assert.Single(_world.ChangeRequests);
        Assert.Equal("normal", record["type"]);
        Assert.Equal("-3", record["state"]);
        Assert.Equal("requested", record["approval"]);
    }

    [Fact]
    public async Task The_assignment_group_is_looked_up_by_name_once_and_put_on_every_record()
    {
        var serviceDesk = _world.ServiceNow.Seed("sys_user_group", new() { ["name"] = "Identity Team" });
        _world.GroupChanges.AssignmentGroup = "Identity Team";
        await BaselineAsync();
        var handler = _world.GroupHandler();
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId, AlexId] }], "l1"));

        await handler.HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);

        Assert.Equal([serviceDesk, serviceDesk], _world.ChangeRequests.Select(r => r["assignment_group"]));
    }

    [Fact]
    public async Task A_missing_assignment_group_holds_the_records_back_naming_the_setting()
    {
        _world.GroupChanges.AssignmentGroup = "No Such Team";
        await BaselineAsync(AlexId);

        var error = await Assert.ThrowsAsync<AssignmentGroupMissingException>(() => AddedAsync(AdeleId));

        Assert.Contains("GroupChanges:AssignmentGroup 'No Such Team'", error.Message);
        Assert.Empty(_world.ChangeRequests);
    }

    [Theory]
    [InlineData("GroupChanges:SensitiveGroups:0:GroupId", "finance", "GroupChanges:SensitiveGroups:0:GroupId 'finance'")]
    [InlineData("GroupChanges:SensitiveGroups:0:Policy", "ask-nicely", "GroupChanges:SensitiveGroups:0:Policy 'ask-nicely'")]
    [InlineData("GroupChanges:ChangeType", "quick", "GroupChanges:ChangeType")]
    [InlineData("GroupChanges:RoleAssignablePolicy", "ask-nicely", "GroupChanges:RoleAssignablePolicy 'ask-nicely'")]
    [InlineData("GroupChanges:ActorFollowUpDelay", "00:00:00", "GroupChanges:ActorFollowUpDelay '00:00:00'")]
    [InlineData("GroupChanges:ActorFollowUpAttempts", "-1", "GroupChanges:ActorFollowUpAttempts '-1'")]
    [InlineData("Provisioning:GroupIds:0", "Finance", "Provisioning:GroupIds: 'Finance'")]
    public void A_bad_group_change_setting_stops_start_up_naming_it(string key, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["GroupChanges:SensitiveGroups:0:GroupId"] = FinanceId,
            ["GroupChanges:SensitiveGroups:0:Policy"] = "approve",
        };
        settings[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddGroupChangeRecords(configuration);
        services.AddOptions<Flows.Provisioning.ProvisioningOptions>().Bind(configuration.GetSection("Provisioning"));
        services.AddSingleton<IValidateOptions<Flows.Provisioning.ProvisioningOptions>>(new Flows.Provisioning.ProvisioningOptionsValidator());
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() =>
        {
            _ = provider.GetRequiredService<IOptions<GroupChangeOptions>>().Value;
            _ = provider.GetRequiredService<IOptions<Flows.Provisioning.ProvisioningOptions>>().Value;
        });
        Assert.Contains(named, error.Message);
    }
}
