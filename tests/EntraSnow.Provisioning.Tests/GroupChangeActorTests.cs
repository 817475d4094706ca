using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace EntraSnow.Provisioning.Tests;

/// <summary>Change records name who made the change, read from the directory audit log once per group per run.</summary>
public sealed class GroupChangeActorTests
{
    private const string FinanceId = "5b1c7a52-3f0e-4d1a-9c55-0a7d2e6f1b01";
    private const string AuditorsGroupId = "7e0f2b44-5d6a-4c8b-9e1d-3f2a1b0c9d8e";
    private const string AdeleId = "0f6a1e23-8c41-4b8e-a2f4-6d3b9e1c7a10";
    private const string AlexId = "8d2e4f60-1b3c-4a5d-9e7f-0c1b2a3d4e5f";
    private const string MeganId = "2a9c8b7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d";

    private readonly ProvisioningWorld _world = new();

    public GroupChangeActorTests()
    {
        _world.AddUser(AdeleId, "adele@contoso.com");
        _world.AddUser(AlexId, "alex@contoso.com");
        _world.AddUser(MeganId, "megan@contoso.com");
        _world.Directory.GetGroupAsync(FinanceId, Arg.Any<CancellationToken>()).Returns(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers" });
    }

    private async Task DeltaAsync(params DirectoryGroup[] groups)
    {
        _world.GroupDelta.Clear();
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>(groups, $"link-{Guid.NewGuid():N}"));
        await _world.GroupHandler().HandleAsync(ProvisioningWorld.Message(MessageKinds.GroupDeltaResync, "groups"), CancellationToken.None);
    }

    private async Task BaselineAsync()
    {
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, DisplayName = "Finance-Approvers", MembersAdded = [MeganId] },
            new DirectoryGroup { Id = AuditorsGroupId, DisplayName = "Auditors", MembersAdded = [MeganId] });
        _world.AuditQueries.Clear();
    }

    private DirectoryAuditEntry Audit(string activity, string groupId, string memberId, TimeSpan ago, string? byUser = null, string? byApp = null) => new()
    {
        Id = Guid.NewGuid().ToString(),
        Activity = activity,
        ActivityDateTime = _world.Clock.GetUtcNow() - ago,
        Result = "success",
        Targets = [new AuditTarget(memberId, "User", null, null), new AuditTarget(groupId, "Group", "Finance-Approvers", null)],
        UserPrincipalName = byUser,
        UserId = byUser is null ? null : Guid.NewGuid().ToString(),
        AppDisplayName = byApp,
        AppId = byApp is null ? null : Guid.NewGuid().ToString(),
    };

    private string Description(int index = 0) => _world.ChangeRequests[index]["description"]!;

    [Fact]
    public async Task The_record_names_the_user_who_added_the_member_when_and_the_audit_entry()
    {
        await BaselineAsync();
        var entry = Audit("Add member to group", FinanceId, AdeleId, TimeSpan.FromMinutes(3), byUser: "it.admin@contoso.com");
        _world.AuditLog.Add(entry);

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });

        Assert.Contains($"Changed by: it.admin@contoso.com at 2026-11-24 07:57:00 UTC (directory audit entry {entry.Id})", Description());
    }

    [Fact]
    public async Task A_removal_by_an_application_names_the_application_and_not_an_earlier_addition()
    {
        await BaselineAsync();
        _world.AuditLog.Add(Audit("Add member to group", FinanceId, MeganId, TimeSpan.FromHours(3), byUser: "it.admin@contoso.com"));
        _world.AuditLog.Add(Audit("Remove member from group", FinanceId, MeganId, TimeSpan.FromMinutes(1), byApp: "HR Sync"));

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersRemoved = [MeganId] });

        Assert.Contains("Changed by: HR Sync (application) at 2026-11-24 07:59:00 UTC", Description());
    }

    [Fact]
    public async Task An_entry_for_another_member_another_group_or_a_failed_attempt_leaves_the_actor_not_read()
    {
        await BaselineAsync();
        _world.AuditLog.Add(Audit("Add member to group", FinanceId, AlexId, TimeSpan.FromMinutes(2), byUser: "someone@contoso.com"));
        _world.AuditLog.Add(Audit("Add member to group", AuditorsGroupId, AdeleId, TimeSpan.FromMinutes(2), byUser: "someone@contoso.com"));
        _world.AuditLog.Add(Audit("Add member to group", FinanceId, AdeleId, TimeSpan.FromMinutes(2), byUser: "someone@contoso.com") with { Result = "failure" });

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });

        Assert.Contains("Changed by: actor not read", Description());
    }

    [Fact]
    public async Task The_audit_log_is_read_once_per_group_per_run_within_the_lookback_however_many_members_changed()
    {
        await BaselineAsync();
        foreach (var member in new[] { AdeleId, AlexId })
        {
            _world.AuditLog.Add(Audit("Add member to group", FinanceId, member, TimeSpan.FromMinutes(5), byUser: "it.admin@contoso.com"));
        }

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId, AlexId] },
            new DirectoryGroup { Id = AuditorsGroupId, MembersAdded = [AdeleId], MembersRemoved = [MeganId] });

        Assert.Equal(4, _world.ChangeRequests.Count);
        Assert.Equal([FinanceId, AuditorsGroupId], _world.AuditQueries.Select(q => q.TargetId).Order());
        Assert.All(_world.AuditQueries, q =>
        {
            Assert.Equal(_world.Clock.GetUtcNow(), q.To);
            Assert.Equal(TimeSpan.FromDays(1), q.To - q.From);
            Assert.InRange(q.MaxEntries, 2, 1_000);
        });
        Assert.All(_world.ChangeRequests.Where(r => r["short_description"]!.EndsWith("Finance-Approvers", StringComparison.Ordinal)),
            r => Assert.Contains("Changed by: it.admin@contoso.com", r["description"]));
    }

    [Fact]
    public async Task Without_AuditLog_Read_All_records_say_actor_not_read_and_the_log_is_asked_again_only_an_hour_later()
    {
        await BaselineAsync();
        _world.Directory.GetDirectoryAuditsAsync(Arg.Any<DirectoryAuditQuery>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            _world.AuditQueries.Add(call.Arg<DirectoryAuditQuery>());
            return Task.FromException<IReadOnlyList<DirectoryAuditEntry>>(
                new GraphRequestException("GET directoryAudits: Graph answered 403 Authorization_RequestDenied.", 403, "Authorization_RequestDenied"));
        });

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] }, new DirectoryGroup { Id = AuditorsGroupId, MembersAdded = [AdeleId] });
        _world.Clock.Advance(TimeSpan.FromMinutes(30));
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AlexId] });

        Assert.Equal(3, _world.ChangeRequests.Count);
        Assert.All(_world.ChangeRequests, r => Assert.Contains("Changed by: actor not read", r["description"]));
        Assert.Single(_world.AuditQueries);

        _world.Clock.Advance(TimeSpan.FromMinutes(31));
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersRemoved = [AlexId] });
        Assert.Equal(2, _world.AuditQueries.Count);
    }

    [Fact]
    public async Task Graph_unavailable_for_the_audit_log_still_writes_the_record()
    {
        await BaselineAsync();
        _world.Directory.GetDirectoryAuditsAsync(Arg.Any<DirectoryAuditQuery>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new GraphUnavailableException("GET directoryAudits: Graph answered 503."));

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });

        Assert.Contains("Changed by: actor not read", Description());
    }

    [Fact]
    public async Task With_ReadActors_off_the_audit_log_is_never_read()
    {
        _world.GroupChanges.ReadActors = false;
        await BaselineAsync();
        _world.AuditLog.Add(Audit("Add member to group", FinanceId, AdeleId, TimeSpan.FromMinutes(3), byUser: "it.admin@contoso.com"));

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });

        Assert.Empty(_world.AuditQueries);
        Assert.Contains("Changed by: actor not read", Description());
    }

    [Fact]
    public async Task A_summary_record_names_the_actors_of_its_bulk_change_from_one_read()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 2;
        await BaselineAsync();
        var members = Enumerable.Range(0, 5).Select(i => $"00000000-0000-4000-8000-00000000000{i}").ToList();
        foreach (var member in members)
        {
            _world.AuditLog.Add(Audit("Add member to group", FinanceId, member, TimeSpan.FromMinutes(1), byApp: "Provisioning Script"));
        }

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = members });

        Assert.Contains("Changed by: Provisioning Script (application)", Assert.Single(_world.ChangeRequests)["description"]);
        Assert.Single(_world.AuditQueries);
    }

    [Fact]
    public async Task A_summary_record_written_before_the_audit_log_named_anyone_gets_its_actor_from_the_follow_up()
    {
        _world.GroupChanges.MaxRecordsPerGroupPerRun = 2;
        await BaselineAsync();
        var members = Enumerable.Range(0, 5).Select(i => $"00000000-0000-4000-8000-00000000000{i}").ToList();

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = members });
        Assert.Contains("Changed by: actor not read", Assert.Single(_world.ChangeRequests)["description"]);

        // Entra ID publishes the entries minutes later.
        foreach (var member in members)
        {
            _world.AuditLog.Add(Audit("Add member to group", FinanceId, member, TimeSpan.FromMinutes(1), byApp: "Provisioning Script"));
        }

        Assert.Equal(1, await FollowUpsDueAsync());

        var summary = Assert.Single(_world.ChangeRequests);
        Assert.EndsWith("Changed by: Provisioning Script (application)", summary["description"]);
        Assert.Contains("Provisioning Script (application)", summary["work_notes"]);
    }

    private List<(string Queue, ChangeMessage Message, DateTimeOffset VisibleAt)> FollowUps() =>
        _world.Queue.Scheduled.Where(s => s.Message.Kind == MessageKinds.GroupActorFollowUp).ToList();

    /// <summary>Delivers the scheduled follow-ups, and those they schedule, as the host would when they come due; returns how many ran.</summary>
    private async Task<int> FollowUpsDueAsync()
    {
        var looks = 0;
        while (FollowUps() is [var next, ..])
        {
            _world.Queue.Scheduled.Remove(next);
            await _world.GroupHandler().HandleAsync(next.Message, CancellationToken.None);
            looks++;
        }

        return looks;
    }

    [Fact]
    public async Task A_record_written_before_the_audit_log_names_the_actor_gets_the_actor_from_a_later_look_once()
    {
        await BaselineAsync();
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });
        Assert.EndsWith("Changed by: actor not read", Description());
        var followUp = Assert.Single(FollowUps());
        Assert.Equal(_world.Clock.GetUtcNow() + TimeSpan.FromMinutes(5), followUp.VisibleAt);

        // Graph publishes the entry of the change (made before the record was written) a few minutes late.
        _world.Clock.Advance(TimeSpan.FromMinutes(5));
        var entry = Audit("Add member to group", FinanceId, AdeleId, TimeSpan.FromMinutes(5.5), byUser: "it.admin@contoso.com");
        _world.AuditLog.Add(entry);
        Assert.Equal(1, await FollowUpsDueAsync());

        var record = Assert.Single(_world.ChangeRequests);
        Assert.EndsWith($"Changed by: it.admin@contoso.com at 2026-11-24 07:59:30 UTC (directory audit entry {entry.Id})", record["description"]);
        Assert.StartsWith("Changed by: it.admin@contoso.com", record["work_notes"]);
        Assert.Contains("named who made this change after the record was written", record["work_notes"]);
        Assert.Empty(FollowUps());

        // The same follow-up delivered again finds the record naming its actor: nothing is written twice.
        var writes = _world.ServiceNow.Writes;
        await _world.GroupHandler().HandleAsync(followUp.Message, CancellationToken.None);
        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.Empty(FollowUps());
    }

    [Fact]
    public async Task An_entry_of_a_change_made_after_the_record_was_written_is_not_taken_for_its_actor()
    {
        await BaselineAsync();
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });

        _world.Clock.Advance(TimeSpan.FromMinutes(5));
        _world.AuditLog.Add(Audit("Add member to group", FinanceId, AdeleId, TimeSpan.FromMinutes(1), byUser: "later.admin@contoso.com"));
        _world.GroupChanges.ActorFollowUpAttempts = 1;
        Assert.Equal(1, await FollowUpsDueAsync());

        Assert.EndsWith("Changed by: actor not read", Description());
    }

    [Fact]
    public async Task When_the_audit_log_never_names_the_actor_it_is_read_again_as_often_as_configured_and_the_record_is_left()
    {
        _world.GroupChanges.ActorFollowUpAttempts = 3;
        await BaselineAsync();
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId, AlexId] });

        Assert.Equal(3, await FollowUpsDueAsync());

        Assert.Equal(1 + 3, _world.AuditQueries.Count);
        Assert.Equal(2, _world.ChangeRequests.Count);
        Assert.All(_world.ChangeRequests, r => Assert.EndsWith("Changed by: actor not read", r["description"]));
        Assert.Empty(FollowUps());
    }

    [Fact]
    public async Task Without_AuditLog_Read_All_or_with_follow_ups_off_the_log_is_not_read_again()
    {
        await BaselineAsync();
        _world.GroupChanges.ActorFollowUpAttempts = 0;
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });
        Assert.Empty(FollowUps());

        _world.GroupChanges.ActorFollowUpAttempts = 6;
        _world.Directory.GetDirectoryAuditsAsync(Arg.Any<DirectoryAuditQuery>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new GraphRequestException("GET directoryAudits: Graph answered 403 Authorization_RequestDenied.", 403, "Authorization_RequestDenied"));
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AlexId] });

        Assert.Equal(2, _world.ChangeRequests.Count);
        Assert.Empty(FollowUps());
    }

    [Fact]
    public async Task A_record_EntraSnow_wrote_before_dying_without_an_actor_is_followed_up_when_the_run_is_replayed()
    {
        await BaselineAsync();
        _world.GroupChanges.ActorFollowUpAttempts = 0;
        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });
        // What a crash after the ServiceNow write leaves: the record, the ledger still at the pending transition, no follow-up.
        await new Flows.Groups.MembershipLedger(_world.Checkpoints).SetPendingAsync(FinanceId, AdeleId, new Flows.Groups.MembershipState(true, 1), CancellationToken.None);
        _world.GroupChanges.ActorFollowUpAttempts = 6;

        await DeltaAsync(new DirectoryGroup { Id = FinanceId, MembersAdded = [AdeleId] });

        Assert.Single(_world.ChangeRequests);
        Assert.Single(FollowUps());
    }
}
