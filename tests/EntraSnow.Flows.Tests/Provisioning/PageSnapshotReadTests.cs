using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Provisioning;

/// <summary>
/// Where the user handler takes its user from (#15): a full sync's <c>user.sync</c> carries the user as the walk's page
/// said it and is written without a Graph GET; a notification, a follow-up, and a sync message about a user decided
/// since its page was read still read the truth from Graph.
/// </summary>
public sealed class PageSnapshotReadTests
{
    private const string UserId = "0d6f5a1e-7c1b-4c53-9a51-6a1f3c0f0001";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 3, 8, 0, 0, TimeSpan.Zero));
    private readonly IDirectory _directory = Substitute.For<IDirectory>();
    private readonly IServiceNowTable _serviceNow = Substitute.For<IServiceNowTable>();
    private readonly IServiceNowReferences _references = Substitute.For<IServiceNowReferences>();
    private readonly IMessageQueue _queue = Substitute.For<IMessageQueue>();
    private readonly IProvisioningLog _log = Substitute.For<IProvisioningLog>();
    private readonly InMemoryCheckpoints _checkpoints;
    private readonly ProvisioningOptions _options = new() { TenantId = "tenant-1" };

    public PageSnapshotReadTests()
    {
        _checkpoints = new InMemoryCheckpoints(_clock);
        _log.GetBySubjectAsync(Arg.Any<string>(), Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns([]);
        _references.FindAsync(default!, default!, default!, default).ReturnsForAnyArgs((string?)null);
        _serviceNow.CreateAsync(Arg.Any<string>(), Arg.Any<IReadOnlyDictionary<string, string?>>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "sys-new" }));
    }

    private static DirectoryUser PageUser(string jobTitle = "Engineer", string? managerId = null, bool enabled = true) => new()
    {
        Id = UserId,
        UserPrincipalName = "ada@contoso.example",
        DisplayName = "Ada Lovelace",
        Mail = "ada@contoso.example",
        GivenName = "Ada",
        Surname = "Lovelace",
        JobTitle = jobTitle,
        UserType = "Member",
        AccountEnabled = enabled,
        ManagerId = managerId,
    };

    private static ChangeMessage SyncMessage(PageSnapshot? snapshot, bool absent = true)
    {
        var properties = new Dictionary<string, string> { [ProvisioningMessageProperties.SyncRun] = "sync-1" };
        if (absent)
        {
            properties[ProvisioningMessageProperties.AbsentInServiceNow] = "true";
        }

        if (snapshot?.ToProperty() is { } json)
        {
            properties[ProvisioningMessageProperties.PageSnapshot] = json;
        }

        return new ChangeMessage
        {
            MessageId = $"user.sync:sync-1:{UserId}",
            SessionKey = UserId,
            Kind = MessageKinds.UserSync,
            TenantId = "tenant-1",
            SubjectId = UserId,
            ChangedAt = DateTimeOffset.UnixEpoch,
            CorrelationId = "sync-1",
            Properties = properties,
        };
    }

    private ProvisionUserHandler Handler()
    {
        var options = Options.Create(_options);
        var provisioned = new ProvisionedUserIds();
        var mapper = new UserAttributeMapper(_references, provisioned, options, _clock);
        var scope = new UserScope(_directory, options);
        var runner = new FullSyncRunner(_directory, _serviceNow, new UserChunkComparison(_serviceNow, mapper, provisioned, scope, options), _queue,
            _checkpoints, _log, options, _clock, NullLogger<FullSyncRunner>.Instance);
        return new ProvisionUserHandler(_directory, _serviceNow, mapper, provisioned, scope, _queue, _checkpoints, _log, options,
            Options.Create(new MessagingOptions()), runner, _clock, NullLogger<ProvisionUserHandler>.Instance);
    }

    private ProvisioningLogEntry Decided(DateTimeOffset at, string correlationId) => new()
    {
        Timestamp = at,
        CorrelationId = correlationId,
        MessageId = "user.updated:" + UserId,
        SubjectId = UserId,
        ObjectKind = ProvisioningObjectKinds.User,
        Action = ProvisioningAction.Updated,
    };

    private IReadOnlyDictionary<string, string?> CreatedFields() =>
        (IReadOnlyDictionary<string, string?>)_serviceNow.ReceivedCalls().Single(c => c.GetMethodInfo().Name == nameof(IServiceNowTable.CreateAsync)).GetArguments()[1]!;

    [Fact]
    public async Task A_user_a_full_sync_queued_with_its_page_is_created_as_the_page_said_without_reading_Graph()
    {
        var readAt = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMinutes(30)); // the fan-out queued the slice later

        await Handler().HandleAsync(SyncMessage(new PageSnapshot(readAt, PageUser())), CancellationToken.None);

        await _directory.DidNotReceiveWithAnyArgs().GetUserAsync(default!, default);
        var fields = CreatedFields();
        Assert.Equal("ada@contoso.example", fields["user_name"]);
        Assert.Equal("Engineer", fields["title"]);
        Assert.Equal(UserId, fields[_options.ObjectIdField]);
        Assert.Equal("true", fields["active"]);
    }

    [Fact]
    public async Task A_change_notification_about_the_user_still_reads_the_user_from_Graph()
    {
        _directory.GetUserAsync(UserId, Arg.Any<CancellationToken>()).Returns(PageUser(jobTitle: "Principal Engineer"));
        _serviceNow.UpsertAsync(default!, default!, default!, default!, default).ReturnsForAnyArgs(new UpsertResult(UpsertOutcome.Created, "sys-new", ["title"]));
        _options.Adoption.MatchOn = string.Empty; // the upsert on user_name: one call to fake
        var notification = SyncMessage(new PageSnapshot(_clock.GetUtcNow(), PageUser())) with
        {
            MessageId = "user.updated:1",
            Kind = MessageKinds.UserUpdated,
            CorrelationId = "notification-1",
        };

        await Handler().HandleAsync(notification, CancellationToken.None);

        await _directory.Received(1).GetUserAsync(UserId, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_user_decided_by_a_notification_after_the_page_was_read_is_read_from_Graph_so_the_older_page_never_overwrites_it()
    {
        var readAt = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMinutes(10));
        // The user's job title changed after the page: its notification was handled before the sync's slice was queued.
        _log.GetBySubjectAsync(UserId, Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns([Decided(_clock.GetUtcNow(), "notification-1")]);
        _directory.GetUserAsync(UserId, Arg.Any<CancellationToken>()).Returns(PageUser(jobTitle: "Principal Engineer"));
        _clock.Advance(TimeSpan.FromMinutes(10));

        await Handler().HandleAsync(SyncMessage(new PageSnapshot(readAt, PageUser())), CancellationToken.None);

        await _directory.Received(1).GetUserAsync(UserId, Arg.Any<CancellationToken>());
        Assert.Equal("Principal Engineer", CreatedFields()["title"]);
    }

    [Fact]
    public async Task A_decision_logged_well_before_the_page_was_read_does_not_cost_a_Graph_read()
    {
        _log.GetBySubjectAsync(UserId, Arg.Any<int>(), Arg.Any<CancellationToken>()).Returns([Decided(_clock.GetUtcNow(), "notification-1")]);
        _clock.Advance(TimeSpan.FromHours(1));
        var readAt = _clock.GetUtcNow();

        await Handler().HandleAsync(SyncMessage(new PageSnapshot(readAt, PageUser())), CancellationToken.None);

        await _directory.DidNotReceiveWithAnyArgs().GetUserAsync(default!, default);
    }

    [Fact]
    public async Task A_user_the_page_listed_as_deleted_is_deactivated_as_today_without_reading_Graph()
    {
        _serviceNow.FindAsync("sys_user", Arg.Any<EncodedQuery>(), Arg.Any<IReadOnlyList<string>?>(), Arg.Any<CancellationToken>())
            .Returns(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "sys-ada", ["active"] = "true", ["locked_out"] = "false" }));
        _serviceNow.UpdateAsync(default!, default!, default!, default).ReturnsForAnyArgs(new ServiceNowRecord(new Dictionary<string, string?> { ["sys_id"] = "sys-ada" }));
        var removed = new DirectoryUser { Id = UserId, Removed = RemovedReason.Changed };

        await Handler().HandleAsync(SyncMessage(new PageSnapshot(_clock.GetUtcNow(), removed), absent: false), CancellationToken.None);

        await _directory.DidNotReceiveWithAnyArgs().GetUserAsync(default!, default);
        await _serviceNow.Received(1).UpdateAsync("sys_user", "sys-ada",
            Arg.Is<IReadOnlyDictionary<string, string?>>(f => f["active"] == "false" && f["locked_out"] == "true"), Arg.Any<CancellationToken>());
        await _log.Received(1).AppendAsync(Arg.Is<ProvisioningLogEntry>(e => e.Action == ProvisioningAction.Deactivated && e.Reason == "deleted in Entra ID"),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_user_the_page_listed_as_disabled_is_created_inactive_and_locked_out_without_reading_Graph()
    {
        await Handler().HandleAsync(SyncMessage(new PageSnapshot(_clock.GetUtcNow(), PageUser(enabled: false))), CancellationToken.None);

        await _directory.DidNotReceiveWithAnyArgs().GetUserAsync(default!, default);
        Assert.Equal("false", CreatedFields()["active"]);
        Assert.Equal("true", CreatedFields()["locked_out"]);
    }

    [Fact]
    public async Task A_snapshot_naming_another_user_is_not_trusted_and_the_user_is_read_from_Graph()
    {
        _directory.GetUserAsync(UserId, Arg.Any<CancellationToken>()).Returns(PageUser());
        var stranger = PageUser() with { Id = "someone-else" };
        var message = SyncMessage(null);
        message = message with
        {
            Properties = new Dictionary<string, string>(message.Properties)
            {
                [ProvisioningMessageProperties.PageSnapshot] = new PageSnapshot(_clock.GetUtcNow(), stranger).ToProperty()!,
            },
        };

        await Handler().HandleAsync(message, CancellationToken.None);

        await _directory.Received(1).GetUserAsync(UserId, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_report_waiting_for_its_manager_is_looked_at_again_later_from_Graph_not_from_the_old_page()
    {
        // The default mapping resolves the manager later when it has no sys_user yet.
        ChangeMessage? followUp = null;
        await _queue.ScheduleAsync(QueueNames.UserChanges, Arg.Do<ChangeMessage>(m => followUp = m), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>());

        await Handler().HandleAsync(SyncMessage(new PageSnapshot(_clock.GetUtcNow(), PageUser(managerId: "manager-not-yet-provisioned"))), CancellationToken.None);

        Assert.NotNull(followUp);
        Assert.Null(followUp.Property(ProvisioningMessageProperties.PageSnapshot));
        Assert.Null(PageSnapshot.From(followUp));
    }

    [Fact]
    public void A_user_too_large_for_a_message_travels_without_a_snapshot()
    {
        var large = PageUser() with { OtherAttributes = new Dictionary<string, string?> { ["extension_notes"] = new string('x', PageSnapshot.MaxChars) } };

        Assert.False(PageSnapshot.Fits(large));
        Assert.Null(new PageSnapshot(_clock.GetUtcNow(), large).ToProperty());
        Assert.True(PageSnapshot.Fits(PageUser()));
    }
}
