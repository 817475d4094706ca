using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Stores;
using EntraSnow.LocalHost.Tests.Support;
using EntraSnow.Sandbox.Graph;
using EntraSnow.Sandbox.ServiceNow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EntraSnow.LocalHost.Tests.Groups;

/// <summary>
/// Membership changes made in the Graph emulator reach the local host as notifications and become change_request
/// records in the ServiceNow emulator: one per real change, however often the delta is delivered.
/// </summary>
public sealed class GroupChangeRecordsEndToEndTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Sandbox:Seed:Users"] = "8",
        ["Sandbox:Seed:Groups"] = "2",
    };

    private readonly string _data = LocalHostHarness.NewDataPath();
    private LocalHostHarness? _host;

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        LocalHostHarness.TryDelete(_data);
    }

    private GraphEmulator Graph => _host!.Services.GetRequiredService<GraphEmulator>();

    private ServiceNowEmulatorStore ServiceNow => _host!.Services.GetRequiredService<ServiceNowEmulatorStore>();

    private ICheckpointStore Checkpoints => _host!.Services.GetRequiredService<ICheckpointStore>();

    private IReadOnlyList<IReadOnlyDictionary<string, string>> Records(string groupId) =>
        ServiceNow.Query("change_request", $"correlation_idSTARTSWITHentra-group:{groupId}^ORDERBYnumber");

    /// <summary>Starts the host, waits for the seeded sandbox's first reading of the groups, and picks a group and a user outside it.</summary>
    private async Task<(string GroupId, string UserId)> StartAsync(IReadOnlyDictionary<string, string?>? more = null)
    {
        _host = await LocalHostHarness.StartAsync(more is null ? Settings : new Dictionary<string, string?>(Settings.Concat(more)), _data);
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(MembershipLedger.BaselineKey) is not null, "the first reading of the groups", Patience);
        // One group a delta page: every run here walks several pages, saving where it stands after each.
        Graph.Options.DeltaPageSize = 1;
        await Eventually.AssertAsync(() => Graph.Subscriptions.Count > 0, "a Graph subscription for the host's intake", Patience);
        var groupId = ServiceNow.Query("sys_user_group", "u_entra_object_idISNOTEMPTY")[0]["u_entra_object_id"];
        var userId = await Graph.CreateUserAsync("Adele Vance", $"adele.{Guid.NewGuid():N}@contoso.com");
        await Eventually.AssertAsync(() => ServiceNow.Query("sys_user", $"u_entra_object_id={userId}").Count == 1, "the new user provisioned", Patience);
        return (groupId, userId);
    }

    /// <summary>Delivers a group notification straight to the queue (a redelivery) and waits until its delta run stored a new link.</summary>
    private async Task DeliverAsync(string groupId, string fromLink)
    {
        var queue = _host!.Services.GetRequiredService<IMessageQueue>();
        await queue.SendAsync(QueueNames.GroupChanges,
        [
            new ChangeMessage
            {
                MessageId = $"redelivery:{Guid.NewGuid():N}",
                SessionKey = groupId,
                Kind = MessageKinds.GroupUpdated,
                TenantId = "sandbox",
                SubjectId = groupId,
                ChangedAt = DateTimeOffset.UtcNow,
                CorrelationId = Guid.NewGuid().ToString("N"),
            },
        ]);
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(GroupChangesHandler.DeltaLinkKey) != fromLink, "the redelivered delta run", Patience);
    }

    [Fact]
    public async Task A_member_added_in_Entra_becomes_one_change_record_however_often_the_delta_is_delivered()
    {
        var (groupId, userId) = await StartAsync();
        var linkBefore = (await Checkpoints.GetAsync(GroupChangesHandler.DeltaLinkKey))!;

        await Graph.AddGroupMemberAsync(groupId, userId);
        await Eventually.AssertAsync(() => Records(groupId).Count == 1, "the change record", Patience);
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(GroupChangesHandler.DeltaLinkKey) != linkBefore, "the delta run saved its progress", Patience);

        for (var delivery = 0; delivery < 3; delivery++)
        {
            await Checkpoints.SetAsync(GroupChangesHandler.DeltaLinkKey, linkBefore);
            await DeliverAsync(groupId, linkBefore);
        }

        var record = Assert.Single(Records(groupId));
        var upn = Graph.GetUser(userId)!["userPrincipalName"]!.GetValue<string>();
        var groupName = ServiceNow.Query("sys_user_group", $"u_entra_object_id={groupId}")[0]["name"];
        Assert.Equal($"Entra ID: {upn} added to {groupName}", record["short_description"]);
        Assert.Matches("^CHG001000[0-9]$", record["number"]);
        Assert.Equal("standard", record["type"]);
        Assert.Contains($"sys_user {ServiceNow.Query("sys_user", $"u_entra_object_id={userId}")[0]["sys_id"]}", record["description"]);
    }

    [Fact]
    public async Task A_host_that_died_between_the_ServiceNow_write_and_saving_progress_writes_no_second_record_after_restart()
    {
        var (groupId, userId) = await StartAsync();
        var linkBefore = (await Checkpoints.GetAsync(GroupChangesHandler.DeltaLinkKey))!;
        await Graph.AddGroupMemberAsync(groupId, userId);
        await Eventually.AssertAsync(() => Records(groupId).Count == 1, "the change record", Patience);
        await Eventually.AssertAsync(async () => await Checkpoints.GetAsync(GroupChangesHandler.DeltaLinkKey) != linkBefore, "the delta run saved its progress", Patience);

        // What a crash right after the ServiceNow write leaves: the record exists, the ledger still has it pending, the delta link did not move.
        await new MembershipLedger(Checkpoints).SetPendingAsync(groupId, userId, new MembershipState(true, 1), CancellationToken.None);
        await Checkpoints.SetAsync(GroupChangesHandler.DeltaLinkKey, linkBefore);
        // Same address after the restart: the stored delta links point at the sandbox Graph this host serves.
        var url = _host!.BaseUrl;
        await _host.DisposeAsync();
        _host = await LocalHostHarness.StartAsync(new Dictionary<string, string?>(Settings) { ["LocalHost:Url"] = url }, _data);
        Graph.Options.DeltaPageSize = 1;

        await DeliverAsync(groupId, linkBefore);

        Assert.Single(Records(groupId));
        Assert.Equal("in:1", await Checkpoints.GetAsync(MembershipLedger.Key(groupId, userId)));
    }

    [Fact]
    public async Task A_member_added_then_removed_gives_two_records_in_order()
    {
        var (groupId, userId) = await StartAsync();

        await Graph.AddGroupMemberAsync(groupId, userId);
        await Eventually.AssertAsync(() => Records(groupId).Count == 1, "the first change record", Patience);
        await Graph.RemoveGroupMemberAsync(groupId, userId);
        await Eventually.AssertAsync(() => Records(groupId).Count == 2, "the second change record", Patience);

        var records = Records(groupId);
        Assert.Contains(" added to ", records[0]["short_description"]);
        Assert.Contains(" removed from ", records[1]["short_description"]);
        Assert.EndsWith(":added:1", records[0]["correlation_id"]);
        Assert.EndsWith(":removed:2", records[1]["correlation_id"]);
    }

    [Fact]
    public async Task A_member_removed_after_the_delta_link_expired_is_recorded_when_the_groups_are_read_from_scratch()
    {
        var (groupId, userId) = await StartAsync();
        await Graph.AddGroupMemberAsync(groupId, userId);
        await Eventually.AssertAsync(() => Records(groupId).Count == 1, "the addition's record", Patience);

        // The stored link expires: the next delta reads every group from scratch, and a full listing names no one who left.
        Graph.ExpireDeltaTokens();
        await Graph.RemoveGroupMemberAsync(groupId, userId);
        await Eventually.AssertAsync(() => Records(groupId).Count == 2, "the removal's record", Patience);

        var removal = Records(groupId)[1];
        Assert.Contains(" removed from ", removal["short_description"]);
        Assert.EndsWith(":removed:2", removal["correlation_id"]);
        var userSysId = ServiceNow.Query("sys_user", $"u_entra_object_id={userId}")[0]["sys_id"];
        var groupSysId = ServiceNow.Query("sys_user_group", $"u_entra_object_id={groupId}")[0]["sys_id"];
        await Eventually.AssertAsync(() => ServiceNow.Query("sys_user_grmember", $"user={userSysId}^group={groupSysId}").Count == 0,
            "the membership gone from ServiceNow", Patience);
    }

    [Fact]
    public async Task A_group_ServiceNow_refuses_is_dead_lettered_alone_while_the_other_group_and_later_deltas_go_on()
    {
        var (_, userId) = await StartAsync();
        var groups = ServiceNow.Query("sys_user_group", "u_entra_object_idISNOTEMPTY").Select(g => g["u_entra_object_id"]).ToList();
        var (refused, open) = (groups[0], groups[1]);
        _host!.Services.GetRequiredService<ServiceNowRecordAcl>().Deny(refused);

        await Graph.AddGroupMemberAsync(refused, userId);
        await Graph.AddGroupMemberAsync(open, userId);
        await Eventually.AssertAsync(() => Records(open).Count == 1, "the record of the group ServiceNow accepts", Patience);
        await Eventually.AssertAsync(async () => (await _host.Queues.GetStatsAsync()).Single(q => q.Queue == QueueNames.GroupChanges).DeadLettered == 1,
            "the refused group dead-lettered", Patience);
        await Graph.RemoveGroupMemberAsync(open, userId);
        await Eventually.AssertAsync(() => Records(open).Count == 2, "the next delta's record", Patience);

        var deadLetter = Assert.Single(await _host.Queues.ListDeadLettersAsync(QueueNames.GroupChanges));
        Assert.Equal(refused, deadLetter.SubjectId);
        Assert.Contains("403", deadLetter.Reason + deadLetter.Description);
        Assert.Empty(Records(refused));
    }

    [Fact]
    public async Task The_record_names_who_made_the_change_from_the_directory_audit_log_or_says_it_was_not_read()
    {
        var (groupId, userId) = await StartAsync();

        await Graph.AddGroupMemberAsync(groupId, userId, AuditInitiator.User("it.admin@contoso.example"));
        await Eventually.AssertAsync(() => Records(groupId).Count == 1, "the change record", Patience);
        Graph.Options.DirectoryAuditsAvailable = false; // AuditLog.Read.All taken away
        await Graph.RemoveGroupMemberAsync(groupId, userId, AuditInitiator.App("HR Sync"));
        await Eventually.AssertAsync(() => Records(groupId).Count == 2, "the second change record", Patience);

        var records = Records(groupId);
        var audit = Graph.DirectoryAudits.Last(a => a["activityDisplayName"]!.GetValue<string>() == "Add member to group");
        Assert.Contains($"Changed by: it.admin@contoso.example at ", records[0]["description"]);
        Assert.Contains($"(directory audit entry {audit["id"]})", records[0]["description"]);
        Assert.EndsWith("Changed by: actor not read", records[1]["description"]);
    }

    [Fact]
    public async Task A_member_added_to_a_role_assignable_group_gets_a_normal_change_waiting_in_Authorize()
    {
        var (ordinaryGroupId, userId) = await StartAsync(new Dictionary<string, string?> { ["GroupChanges:TreatRoleAssignableAsSensitive"] = "true" });
        var tierZeroId = await Graph.CreateGroupAsync("Tier 0 Admins", isAssignableToRole: true);
        await Eventually.AssertAsync(() => ServiceNow.Query("sys_user_group", $"u_entra_object_id={tierZeroId}").Count == 1, "the new group provisioned", Patience);

        await Graph.AddGroupMemberAsync(tierZeroId, userId);
        await Graph.AddGroupMemberAsync(ordinaryGroupId, userId);
        await Eventually.AssertAsync(() => Records(tierZeroId).Count == 1 && Records(ordinaryGroupId).Count == 1, "both change records", Patience);

        var tierZero = Records(tierZeroId)[0];
        Assert.Equal(("normal", "-3", "requested"), (tierZero["type"], tierZero["state"], tierZero["approval"]));
        Assert.Equal("standard", Records(ordinaryGroupId)[0]["type"]);
    }

    [Theory]
    [InlineData("GroupChanges:RoleAssignablePolicy", "ask-nicely")]
    [InlineData("GroupChanges:SensitiveGroups:0:Policy", "ask-nicely")]
    [InlineData("GroupChanges:SensitiveGroups:0:GroupId", "Finance-Approvers")]
    [InlineData("GroupChanges:AssignmentGroup", "No Such Team")]
    public async Task A_bad_group_change_setting_stops_the_local_host_naming_the_setting(string key, string value)
    {
        var settings = new Dictionary<string, string?>(LocalHostHarness.IntakeOnly("a-client-state-long-enough-for-graph"))
        {
            ["GroupChanges:SensitiveGroups:0:GroupId"] = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01",
            ["GroupChanges:SensitiveGroups:0:Policy"] = "approve",
        };
        settings[key] = value;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () => _host = await LocalHostHarness.StartAsync(settings, _data));

        Assert.Contains(key, string.Join("\n", error.Failures));
    }
}
