using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.FullSync;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using EntraSnow.Provisioning.Tests.Fakes;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests;

public sealed class FullSyncTests
{
    private readonly ProvisioningWorld _world = new();

    private void Seed(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _world.AddUser($"u{i:D3}", $"user{i:D3}@contoso.com");
        }
    }

    [Fact]
    public async Task A_full_sync_creates_every_user_with_at_most_1_2_ServiceNow_calls_per_user_and_no_Graph_read_of_its_own()
    {
        Seed(300);

        var runId = await _world.StartSyncAsync();
        await _world.DrainAsync();

        Assert.Equal(300, _world.SysUsers.Count);
        Assert.True(_world.ServiceNow.Calls <= 1.2 * 300, $"{_world.ServiceNow.Calls} ServiceNow calls for 300 users");
        // Each user as the walk's page said it (#15): no GET per user.
        Assert.Equal(0, _world.GraphUserReads);
        var progress = await _world.FullSync().GetProgressAsync(runId);
        Assert.Equal(300, progress!.UsersQueued);
        Assert.Equal(300, progress.Summary.Users.Created);
    }

    [Fact]
    public async Task A_full_sync_killed_mid_walk_goes_on_from_the_step_it_was_at_and_reads_no_step_twice()
    {
        Seed(250);
        // Steps of 60 users (pages of 50): the walk takes three messages.
        _world.Options.FullSyncChunkSize = 10;
        var runId = await _world.FullSync().StartAsync();
        var first = _world.Queue.Take()!.Value;
        await _world.UserHandler().HandleAsync(first.Message, CancellationToken.None);
        var second = Assert.Single(_world.Queue.Ready);
        Assert.Equal(MessageKinds.UserSyncPage, second.Message.Kind);

        // The host dies before the first step's message is acknowledged: it comes back, and the host's start queues the
        // step the walk is at again.
        await _world.UserHandler().HandleAsync(first.Message, CancellationToken.None);
        Assert.Equal(runId, await _world.FullSync().ResumeInterruptedAsync());
        Assert.Equal([second.Message.MessageId], _world.Queue.Ready.Select(r => r.Message.MessageId));
        await _world.DrainAsync();

        Assert.Equal(250, _world.SysUsers.Count);
        Assert.Equal(250, _world.SysUsers.Select(u => u["u_entra_object_id"]).Distinct().Count());
        var progress = await _world.FullSync().GetProgressAsync(runId);
        Assert.Equal(SyncPhase.Completed, progress!.Phase);
        Assert.Equal(250, progress.Summary.Users.Created);
        Assert.Null(await _world.FullSync().ResumeInterruptedAsync());
        // Three steps, each read once: the first one's duplicate read nothing.
        _ = _world.Directory.Received(3).GetUsersDeltaAsync(Arg.Any<string?>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_full_sync_keeps_at_most_a_slice_and_a_half_of_its_users_waiting_in_the_queue_whatever_the_tenant_s_size()
    {
        Seed(250);
        // Slices of 60 users (a walk step's worth): 250 users are queued five slices apart, never all at once.
        _world.Options.FullSyncChunkSize = 10;
        var runId = await _world.FullSync().StartAsync();

        var deepest = 0;
        var handled = 0;
        while (handled++ < 10_000)
        {
            deepest = Math.Max(deepest, _world.Queue.Ready.Count(r => r.Message.Kind == MessageKinds.UserSync));
            if (_world.Queue.Take() is not { } next)
            {
                if (_world.Queue.ReleaseScheduled() > 0)
                {
                    continue;
                }

                break;
            }

            IMessageHandler handler = next.Queue == QueueNames.UserChanges ? _world.UserHandler() : _world.GroupHandler();
            await handler.HandleAsync(next.Message, CancellationToken.None);
        }

        Assert.InRange(deepest, 30, 90);
        Assert.Equal(250, _world.SysUsers.Count);
        Assert.Equal(250, _world.Queue.Sent.Count(s => s.Message.Kind == MessageKinds.UserSync));
        var progress = await _world.FullSync().GetProgressAsync(runId);
        Assert.Equal(SyncPhase.Completed, progress!.Phase);
        Assert.Equal(250, progress.Summary.Users.Created);
    }

    [Fact]
    public async Task A_full_sync_started_by_the_timer_completes_through_the_queues_with_nobody_watching()
    {
        Seed(20);
        _world.AddUser("later", "later@contoso.com");
        _world.GroupDelta.Add(new DeltaPage<DirectoryGroup>([new DirectoryGroup { Id = "g1", DisplayName = "Desk", MembersAdded = ["u000", "u019"] }], "g-link"));
        var job = new FullSyncJob(_world.FullSync(), Microsoft.Extensions.Options.Options.Create(_world.Options));

        await job.RunAsync(CancellationToken.None);
        var runId = _world.Checkpoints.Values[FullSyncRunner.CurrentRunKey];
        // The timer only queues the walk's first step: the queues do the rest, the groups run behind the users.
        Assert.Equal(MessageKinds.UserSyncPage, Assert.Single(_world.Queue.Ready).Message.Kind);
        await _world.DrainAsync();

        var progress = await _world.FullSync().GetProgressAsync(runId);
        Assert.Equal(SyncPhase.Completed, progress!.Phase);
        Assert.Equal(21, progress.Summary.Users.Created);
        Assert.Equal(1, progress.Summary.Groups.Created);
        Assert.Equal(2, _world.ServiceNow.Records("sys_user_grmember").Count);
        Assert.False(_world.Checkpoints.Values.ContainsKey(FullSyncRunner.CurrentRunKey));
    }

    [Fact]
    public async Task A_resync_with_nothing_changed_writes_nothing()
    {
        Seed(120);
        await _world.FullSync().RunToEndAsync(_world);
        var writes = _world.ServiceNow.Writes;

        var second = await _world.FullSync().RunToEndAsync(_world);

        Assert.Equal(writes, _world.ServiceNow.Writes);
        Assert.Equal(120, second.Summary.Users.Unchanged);
        Assert.Equal(SyncPhase.Completed, second.Phase);
    }

    [Fact]
    public async Task A_resync_with_nothing_changed_compares_in_chunks_and_sends_no_user_message_nor_reads_a_user_from_Graph()
    {
        // 400 users, each of the last 399 reporting to the one before: managers are compared through the record.
        _world.AddUser("u000", "user000@contoso.com");
        for (var i = 1; i < 400; i++)
        {
            _world.AddUser($"u{i:D3}", $"user{i:D3}@contoso.com", managerId: $"u{i - 1:D3}");
        }

        await _world.FullSync().RunToEndAsync(_world);
        Assert.All(_world.SysUsers.Skip(1), u => Assert.NotEqual(string.Empty, u.GetValueOrDefault("manager") ?? string.Empty));
        var (calls, writes, graphReads, logWrites) = (_world.ServiceNow.Calls, _world.ServiceNow.Writes, _world.GraphUserReads, _world.Log.Writes);

        var runId = await _world.StartSyncAsync();

        // Only the groups run is queued: nobody's handler runs.
        Assert.Equal([MessageKinds.GroupDeltaResync], _world.Queue.Ready.Select(r => r.Message.Kind));
        Assert.Equal(graphReads, _world.GraphUserReads);
        // The 400 unchanged users are logged a chunk at a time: three writes to the log, not 400.
        Assert.Equal(3, _world.Log.Writes - logWrites);
        // 400 users in chunks of 150: three sys_user reads, the orphan sweep, and the object id field check.
        Assert.True(_world.ServiceNow.Calls - calls <= 6, $"{_world.ServiceNow.Calls - calls} ServiceNow calls to learn that 400 users did not change");
        await _world.DrainAsync();
        Assert.Equal(writes, _world.ServiceNow.Writes);
        var progress = await _world.FullSync().GetProgressAsync(runId);
        Assert.Equal(SyncPhase.Completed, progress!.Phase);
        Assert.Equal(400, progress.Summary.Users.Unchanged);
    }

    [Fact]
    public async Task A_resync_from_the_stored_delta_link_reads_its_changed_users_from_Graph_because_such_pages_carry_only_what_changed()
    {
        Seed(120);
        await _world.FullSync().RunToEndAsync(_world);
        var graphReads = _world.GraphUserReads;
        _world.Users["u010"] = _world.Users["u010"] with { JobTitle = "Head of Sales" };
        _world.Clock.Advance(TimeSpan.FromDays(1));
        var sent = _world.Queue.Sent.Count;

        var runId = await _world.FullSync().StartAsync(fromScratch: false);
        await _world.WalkUsersAsync();
        await _world.DrainAsync();

        var queued = Assert.Single(_world.Queue.Sent.Skip(sent), s => s.Message.Kind == MessageKinds.UserSync);
        Assert.Null(queued.Message.Property(ProvisioningMessageProperties.PageSnapshot));
        Assert.Equal(graphReads + 1, _world.GraphUserReads);
        Assert.Equal("Head of Sales", _world.SysUser("u010")["title"]);
        Assert.Equal(SyncPhase.Completed, (await _world.FullSync().GetProgressAsync(runId))!.Phase);
    }

    [Fact]
    public async Task A_resync_sends_only_the_changed_disabled_and_new_users_to_their_handler()
    {
        Seed(200);
        await _world.FullSync().RunToEndAsync(_world);
        var graphReads = _world.GraphUserReads;
        _world.Users["u010"] = _world.Users["u010"] with { JobTitle = "Head of Sales" };
        _world.Users["u020"] = _world.Users["u020"] with { AccountEnabled = false };
        _world.AddUser("new", "new@contoso.com");
        _world.Clock.Advance(TimeSpan.FromDays(1)); // the nightly resync

        var final = await _world.FullSync().RunToEndAsync(_world);

        // The three handlers take their users from the pages: no Graph read.
        Assert.Equal(graphReads, _world.GraphUserReads);
        Assert.Equal("Head of Sales", _world.SysUser("u010")["title"]);
        Assert.Equal("false", _world.SysUser("u020")["active"]);
        Assert.Equal(1, final.Summary.Users.Updated);
        Assert.Equal(1, final.Summary.Users.Deactivated);
        Assert.Equal(1, final.Summary.Users.Created);
        Assert.Equal(198, final.Summary.Users.Unchanged);
    }

    [Fact]
    public async Task A_resync_decides_users_out_of_scope_itself_when_their_record_is_already_inactive_or_missing()
    {
        Seed(3);
        await _world.FullSync().RunToEndAsync(_world);
        _world.AddUser("guest", "guest@contoso.com");
        _world.Users["guest"] = _world.Users["guest"] with { UserType = "Guest" };
        _world.Options.ScopeRules.Add(new ScopeRule { Attribute = "userType", Value = "Member" });
        _world.Users["u001"] = _world.Users["u001"] with { UserType = "Guest" };
        await _world.FullSync().RunToEndAsync(_world);
        Assert.Equal("false", _world.SysUser("u001")["active"]);
        var graphReads = _world.GraphUserReads;

        var final = await _world.FullSync().RunToEndAsync(_world);

        Assert.Equal(graphReads, _world.GraphUserReads);
        Assert.Equal(3, final.Summary.Users.Unchanged);
        Assert.Equal(1, final.Summary.Users.Skipped);
        var entries = await _world.Log.GetByCorrelationAsync(final.RunId);
        Assert.Contains(entries, e => e.SubjectId == "u001" && e.Reason!.EndsWith("already inactive", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.SubjectId == "guest" && e.Reason!.EndsWith("nothing to deactivate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_restart_after_a_kill_mid_sync_finishes_the_same_run_without_duplicates()
    {
        Seed(200);
        var runId = await _world.StartSyncAsync();
        // Half the users are processed, then the host dies: one message was written but never acknowledged.
        for (var i = 0; i < 100; i++)
        {
            var next = _world.Queue.Take()!.Value;
            await _world.UserHandler().HandleAsync(next.Message, CancellationToken.None);
            if (i == 99)
            {
                await _world.Queue.SendAsync(next.Queue, [next.Message]);
            }
        }

        var resumed = await _world.StartSyncAsync();
        await _world.DrainAsync();

        Assert.Equal(runId, resumed);
        Assert.Equal(200, _world.SysUsers.Count);
        Assert.Equal(200, _world.SysUsers.Select(u => u["u_entra_object_id"]).Distinct().Count());
        var progress = await _world.FullSync().GetProgressAsync(runId);
        Assert.Equal(200, progress!.Summary.Users.Created);
    }

    [Fact]
    public async Task A_kill_between_the_create_and_its_acknowledgement_does_not_create_twice()
    {
        Seed(1);
        await _world.StartSyncAsync();
        var message = _world.Queue.Take()!.Value.Message;

        await _world.UserHandler().HandleAsync(message, CancellationToken.None);
        await _world.UserHandler().HandleAsync(message, CancellationToken.None);

        Assert.Single(_world.SysUsers);
    }

    [Fact]
    public async Task With_ServiceNow_down_for_the_length_of_the_sync_the_sync_waits_and_completes_when_it_is_back()
    {
        Seed(50);
        var runner = _world.FullSync();
        var runId = await _world.StartSyncAsync(runner);
        _world.ServiceNow.FailWith = new ServiceNowUnreachableException("503 Service Unavailable");
        var progressSeen = new List<SyncProgress>();
        var waiting = runner.WaitAsync(runId, new Progress(progressSeen));

        await _world.DrainAsync(releaseScheduled: false);
        _world.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.False(waiting.IsCompleted);
        Assert.Empty(_world.SysUsers);
        Assert.Equal(50, _world.Rescheduled);

        _world.ServiceNow.FailWith = null;
        while (!waiting.IsCompleted)
        {
            await _world.DrainAsync();
            _world.Clock.Advance(_world.Options.FullSyncPollInterval);
            await Task.Yield();
        }

        var final = await waiting;
        Assert.Equal(SyncPhase.Completed, final.Phase);
        Assert.False(final.TimedOut);
        Assert.Equal(50, final.Summary.Users.Created);
        Assert.Equal(50, _world.SysUsers.Select(u => u["u_entra_object_id"]).Distinct().Count());
        Assert.Equal(50, _world.SysUsers.Count);
        Assert.Contains(progressSeen, p => p.Phase == SyncPhase.ProvisioningUsers && p.UsersDone == 0);
    }

    [Fact]
    public async Task A_full_sync_deactivates_sys_users_whose_Entra_user_no_longer_exists()
    {
        Seed(3);
        _world.ServiceNow.Seed("sys_user", new() { ["u_entra_object_id"] = "gone", ["user_name"] = "left@contoso.com", ["active"] = "true" });

        var final = await _world.FullSync().RunToEndAsync(_world);

        Assert.Equal("false", _world.SysUser("gone")["active"]);
        Assert.Equal(1, final.Summary.Users.Deactivated);
        Assert.Equal(3, final.Summary.Users.Created);
    }

    [Fact]
    public async Task The_summary_lists_each_failure_with_its_reason()
    {
        Seed(4);
        _world.Options.Mappings["department"] = new AttributeMapping { OnMissingReference = MissingReferencePolicy.Fail };
        _world.Users["u001"] = _world.Users["u001"] with { Department = "Nowhere" };

        var final = await _world.FullSync().RunToEndAsync(_world);

        Assert.Equal(3, final.Summary.Users.Created);
        var failure = Assert.Single(final.Summary.Failures);
        Assert.Equal("u001", failure.SubjectId);
        Assert.Contains("'Nowhere'", failure.Reason);
    }

    [Fact]
    public async Task Managers_are_set_on_their_reports_in_one_full_sync()
    {
        _world.AddUser("boss", "boss@contoso.com");
        for (var i = 0; i < 10; i++)
        {
            _world.AddUser($"r{i}", $"r{i}@contoso.com", managerId: "boss");
        }

        await _world.FullSync().RunToEndAsync(_world);

        var boss = _world.SysUser("boss")["sys_id"];
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal(boss, _world.SysUser($"r{i}")["manager"]));
        Assert.Equal(11, _world.SysUsers.Count);
    }

    private sealed class Progress(List<SyncProgress> seen) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value) => seen.Add(value);
    }
}

internal static class FullSyncTestExtensions
{
    /// <summary>Runs a whole sync against the world: the consumers drain while the clock moves one poll at a time.</summary>
    public static async Task<SyncProgress> RunToEndAsync(this FullSyncRunner runner, ProvisioningWorld world)
    {
        var runId = await runner.StartAsync();
        var waiting = runner.WaitAsync(runId);
        while (!waiting.IsCompleted)
        {
            await world.DrainAsync();
            world.Clock.Advance(world.Options.FullSyncPollInterval);
            await Task.Yield();
        }

        return await waiting;
    }
}
