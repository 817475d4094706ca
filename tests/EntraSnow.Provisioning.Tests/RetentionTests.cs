using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Flows.Retention;
using EntraSnow.Flows.ServiceNowWebhooks;
using EntraSnow.Provisioning.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

/// <summary>The retention rule over the flows' own stores, in virtual time.</summary>
public sealed class RetentionTests
{
    private readonly ProvisioningWorld _world = new();
    private readonly IWebhookReplayStore _webhookRequests = Substitute.For<IWebhookReplayStore>();
    private readonly IHostDataRetention _hostData = Substitute.For<IHostDataRetention>();
    private readonly RetentionOptions _options = new();

    private RetentionJob Job() => new(_world.Log, new DeletedObjects(_world.Checkpoints, _world.Directory), _webhookRequests, [_hostData],
        Microsoft.Extensions.Options.Options.Create(_options), _world.Clock, NullLogger<RetentionJob>.Instance);

    private async Task DeleteInEntraAsync(string userId)
    {
        _world.Users.Remove(userId);
        await _world.Queue.SendAsync(QueueNames.UserChanges, [ProvisioningWorld.Message(MessageKinds.UserDeleted, userId)]);
        await _world.DrainAsync();
    }

    [Fact]
    public async Task A_deleted_users_checkpoints_go_once_the_retention_has_passed_and_a_restored_users_stay()
    {
        _world.AddUser("leaver", "leaver@contoso.com");
        var returner = _world.AddUser("returner", "returner@contoso.com");
        await _world.Queue.SendAsync(QueueNames.UserChanges, [ProvisioningWorld.Message(MessageKinds.UserUpdated, "leaver"), ProvisioningWorld.Message(MessageKinds.UserUpdated, "returner")]);
        await _world.DrainAsync();
        await _world.Checkpoints.SetAsync("groupmember:g1:leaver", "in:1");
        await _world.Checkpoints.SetAsync("groupmember:g1:returner", "in:1");
        await _world.Checkpoints.SetAsync("groupmember:g1:stayer", "in:1");
        await DeleteInEntraAsync("leaver");
        await DeleteInEntraAsync("returner");

        _world.Clock.Advance(TimeSpan.FromDays(29));
        var early = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(0, early.DeletedObjectCheckpoints);
        Assert.Contains("sys_user:leaver", _world.Checkpoints.Values.Keys);

        // Restored from the recycle bin within Entra's 30 days.
        _world.Users[returner.Id] = returner;
        _world.Clock.Advance(TimeSpan.FromDays(2));
        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(2, report.DeletedObjectCheckpoints);
        Assert.DoesNotContain("sys_user:leaver", _world.Checkpoints.Values.Keys);
        Assert.DoesNotContain("groupmember:g1:leaver", _world.Checkpoints.Values.Keys);
        Assert.Contains("sys_user:returner", _world.Checkpoints.Values.Keys);
        Assert.Contains("groupmember:g1:returner", _world.Checkpoints.Values.Keys);
        Assert.Contains("groupmember:g1:stayer", _world.Checkpoints.Values.Keys);
        Assert.DoesNotContain(_world.Checkpoints.Values.Keys, k => k.StartsWith("deleted:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_deleted_groups_ledger_rows_go_once_the_retention_has_passed()
    {
        _world.Directory.GetGroupAsync("g-gone", Arg.Any<CancellationToken>()).Returns((DirectoryGroup?)null);
        await _world.Checkpoints.SetAsync("groupmember:g-gone:u1", "in:1");
        await _world.Checkpoints.SetAsync("groupmember:g-gone:u2", "out:2");
        await _world.Checkpoints.SetAsync("groupmember:g-kept:u1", "in:1");
        await _world.Checkpoints.SetAsync("groupmember-own:g-gone:u3:in", "1796180604:RITM0010001");
        await _world.Queue.SendAsync(QueueNames.GroupChanges, [ProvisioningWorld.Message(MessageKinds.GroupSync, "g-gone")]);
        await _world.DrainAsync();
        Assert.Contains("deleted:group:g-gone", _world.Checkpoints.Values.Keys);

        _world.Clock.Advance(_options.DeletedObjects + TimeSpan.FromHours(1));
        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(3, report.DeletedObjectCheckpoints);
        Assert.Equal(["groupmember:g-kept:u1"], _world.Checkpoints.Values.Keys.Where(k => k.StartsWith("groupmember", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_deleted_groups_ledger_rows_as_a_nested_member_of_the_groups_it_was_in_go_with_it()
    {
        _world.Directory.GetGroupAsync("g-gone", Arg.Any<CancellationToken>()).Returns((DirectoryGroup?)null);
        await _world.Checkpoints.SetAsync("groupmember:g-parent:g-gone", "out:2:group");
        await _world.Checkpoints.SetAsync("groupmember:g-parent:u1", "in:1");
        await _world.Queue.SendAsync(QueueNames.GroupChanges, [ProvisioningWorld.Message(MessageKinds.GroupSync, "g-gone")]);
        await _world.DrainAsync();

        _world.Clock.Advance(_options.DeletedObjects + TimeSpan.FromHours(1));
        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.DeletedObjectCheckpoints);
        Assert.Equal(["groupmember:g-parent:u1"], _world.Checkpoints.Values.Keys.Where(k => k.StartsWith("groupmember", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_note_of_EntraSnows_own_membership_change_that_never_showed_goes_after_the_retention_and_a_recent_one_stays()
    {
        // An access request's add that Entra never reported (the write failed after the note), and today's removal.
        await _world.Checkpoints.SetAsync(MembershipLedger.OwnKey("g1", "u1", isMember: true), $"{_world.Clock.GetUtcNow().ToUnixTimeSeconds()}:RITM0010001");
        _world.Clock.Advance(_options.DeletedObjects + TimeSpan.FromDays(1));
        await _world.Checkpoints.SetAsync(MembershipLedger.OwnKey("g1", "u2", isMember: false), $"{_world.Clock.GetUtcNow().ToUnixTimeSeconds()}:RITM0010002");

        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.DeletedObjectCheckpoints);
        Assert.Equal([MembershipLedger.OwnKey("g1", "u2", isMember: false)],
            _world.Checkpoints.Values.Keys.Where(k => k.StartsWith(MembershipLedger.OwnKeyPrefix, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Provisioning_log_entries_older_than_the_setting_are_deleted_and_newer_ones_kept()
    {
        _options.ProvisioningLog = TimeSpan.FromDays(90);
        var now = _world.Clock.GetUtcNow();
        foreach (var (subject, age) in new[] { ("old", 91), ("edge", 89), ("new", 1) })
        {
            await _world.Log.AppendAsync(new ProvisioningLogEntry
            {
                Timestamp = now.AddDays(-age), CorrelationId = "c", MessageId = subject, SubjectId = subject,
                ObjectKind = ProvisioningObjectKinds.User, Action = ProvisioningAction.Updated,
            });
        }

        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.LogEntries);
        Assert.Equal(["edge", "new"], _world.Log.Entries.Select(e => e.SubjectId));
    }

    [Fact]
    public async Task Old_sync_run_records_go_and_the_run_in_progress_stays()
    {
        await _world.Checkpoints.SetAsync("fullsync:run:old", "{}");
        await _world.Checkpoints.SetAsync("fullsync:run:old:groups", "5");
        await _world.Checkpoints.SetAsync("fullsync:run:long", "{}");
        await _world.Checkpoints.SetAsync(FullSyncRunner.CurrentRunKey, "long");
        _world.Clock.Advance(TimeSpan.FromDays(31));
        await _world.Checkpoints.SetAsync("fullsync:run:recent", "{}");

        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(2, report.SyncRuns);
        Assert.Equal(["fullsync:run:long", "fullsync:run:recent"],
            _world.Checkpoints.Values.Keys.Where(k => k.StartsWith("fullsync:run:", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_walk_notes_of_a_run_that_never_completed_go_with_its_record_and_the_run_in_progress_keeps_its_own()
    {
        // An abandoned run stopped half-way through its users walk; the current one is at its second page.
        await _world.Checkpoints.SetAsync("fullsync:run:abandoned", "{}");
        await _world.Checkpoints.SetAsync("fullsync:walk:abandoned:000000:0000:00", "[]");
        await _world.Checkpoints.SetAsync("fullsync:walk:abandoned:000001:0000:00", "[]");
        await _world.Checkpoints.SetAsync("fullsync:walk:long:000000:0000:00", "[]");
        await _world.Checkpoints.SetAsync(FullSyncRunner.CurrentRunKey, "long");
        _world.Clock.Advance(TimeSpan.FromDays(31));
        await _world.Checkpoints.SetAsync("fullsync:walk:long:000001:0000:00", "[]");

        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(3, report.SyncRuns);
        Assert.Equal(["fullsync:walk:long:000000:0000:00", "fullsync:walk:long:000001:0000:00"],
            _world.Checkpoints.Values.Keys.Where(k => k.StartsWith("fullsync:", StringComparison.Ordinal) && k != FullSyncRunner.CurrentRunKey).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_summary_tallies_of_a_groups_run_that_was_dead_lettered_go_and_the_groups_run_in_progress_keeps_its_own()
    {
        // A group sync dead-lettered after its summary record was created, and a long delta run still going.
        await _world.Checkpoints.SetAsync(BulkChangeSummaries.RunPrefix("group.sync:g1:dead-lettered") + "g1", "{}");
        await new GroupDeltaProgress("page-9", Full: true, Baseline: false, RunKey: "long-run", StartedBy: "long-run").SaveAsync(_world.Checkpoints, CancellationToken.None);
        await _world.Checkpoints.SetAsync(BulkChangeSummaries.RunPrefix("long-run") + "g2", "{}");
        _world.Clock.Advance(_options.DeletedObjects + TimeSpan.FromDays(1));
        await _world.Checkpoints.SetAsync(BulkChangeSummaries.RunPrefix("recent-run") + "g3", "{}");

        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(1, report.SyncRuns);
        Assert.Equal(new[] { BulkChangeSummaries.RunPrefix("long-run") + "g2", BulkChangeSummaries.RunPrefix("recent-run") + "g3" }.Order(StringComparer.Ordinal),
            _world.Checkpoints.Values.Keys.Where(k => k.StartsWith(BulkChangeSummaries.KeyPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Spent_webhook_ids_and_the_hosts_old_dead_letters_are_purged_with_the_configured_ages()
    {
        _options.DeadLetters = TimeSpan.FromDays(7);
        _webhookRequests.PurgeExpiredAsync(default, default).ReturnsForAnyArgs(3);
        _hostData.PurgeAsync(default, default).ReturnsForAnyArgs(4);

        var report = await Job().RunAsync(CancellationToken.None);

        Assert.Equal(3, report.WebhookRequestIds);
        Assert.Equal(4, report.DeadLetters);
        await _webhookRequests.Received(1).PurgeExpiredAsync(_world.Clock.GetUtcNow(), Arg.Any<CancellationToken>());
        await _hostData.Received(1).PurgeAsync(_world.Clock.GetUtcNow() - TimeSpan.FromDays(7), Arg.Any<CancellationToken>());
    }

    [Theory]
    [InlineData("Retention:ProvisioningLog", "0.01:00:00")]
    [InlineData("Retention:DeletedObjects", "10.00:00:00")]
    [InlineData("Retention:Schedule", "every night")]
    public void A_bad_retention_setting_stops_the_start_naming_it(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [setting] = value }).Build();
        using var services = new ServiceCollection().AddRetention(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<RetentionOptions>>().Value);

        Assert.Contains(setting.Split(':')[1], error.Message, StringComparison.Ordinal);
    }
}
