using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Queueing;

public sealed class SqliteQueueStoreTests : IAsyncDisposable
{
    private readonly string _path = Path.Combine(LocalHostHarness.NewDataPath(), "queues.db");
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly SqliteQueueOptions _options = new() { VisibilityTimeout = TimeSpan.FromMinutes(2), MaxDeliveryCount = 3, DuplicateDetectionWindow = TimeSpan.FromMinutes(10) };
    private SqliteQueueStore _store;

    public SqliteQueueStoreTests() => _store = Open();

    private SqliteQueueStore Open() => new(_path, Options.Create(_options), _clock, NullLogger<SqliteQueueStore>.Instance);

    private static ChangeMessage Message(string id, string session = "user-1") => new()
    {
        MessageId = id,
        SessionKey = session,
        Kind = MessageKinds.UserUpdated,
        TenantId = "tenant",
        SubjectId = session,
        ChangedAt = DateTimeOffset.UnixEpoch,
        CorrelationId = "corr-" + id,
    };

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        LocalHostHarness.TryDelete(Path.GetDirectoryName(_path)!);
    }

    [Fact]
    public async Task Sent_message_is_received_with_its_envelope_intact()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1") with { Properties = new Dictionary<string, string> { ["subscriptionId"] = "s1" } }]);

        var received = await _store.ReceiveAsync(QueueNames.UserChanges);

        Assert.NotNull(received);
        Assert.Equal("m1", received.Message.MessageId);
        Assert.Equal("corr-m1", received.Message.CorrelationId);
        Assert.Equal("s1", received.Message.Property("subscriptionId"));
        Assert.Equal(1, received.DeliveryCount);
    }

    [Fact]
    public async Task Completed_message_is_gone()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        var received = await _store.ReceiveAsync(QueueNames.UserChanges);

        await _store.CompleteAsync(received!);

        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));
        Assert.Equal(0, (await _store.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges).Depth);
    }

    [Fact]
    public async Task Message_taken_but_never_completed_comes_back_after_its_visibility_timeout()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        Assert.NotNull(await _store.ReceiveAsync(QueueNames.UserChanges));

        // The consumer "dies": nothing settles the message. It stays hidden until the timeout…
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));

        // …and is delivered again after it, counting the delivery.
        _clock.Advance(TimeSpan.FromMinutes(1.5));
        var again = await _store.ReceiveAsync(QueueNames.UserChanges);
        Assert.NotNull(again);
        Assert.Equal(2, again.DeliveryCount);
    }

    [Fact]
    public async Task Message_in_flight_when_the_process_dies_is_delivered_by_the_next_process()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        Assert.NotNull(await _store.ReceiveAsync(QueueNames.UserChanges));
        await _store.DisposeAsync();

        _store = Open();
        _clock.Advance(_options.VisibilityTimeout + TimeSpan.FromSeconds(1));

        var redelivered = await _store.ReceiveAsync(QueueNames.UserChanges);
        Assert.Equal("m1", redelivered?.Message.MessageId);
    }

    [Fact]
    public async Task Locks_of_a_dead_process_are_released_at_once_by_the_next_owner_of_the_folder()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1"), Message("m2")]);
        Assert.NotNull(await _store.ReceiveAsync(QueueNames.UserChanges));
        await _store.DisposeAsync();

        _store = Open();
        Assert.Equal(1, await _store.ReleaseLocksOfDeadProcessAsync());

        // No wait for the visibility timeout: the message, and the later one about the same user, come at once.
        var again = await _store.ReceiveAsync(QueueNames.UserChanges);
        Assert.Equal("m1", again?.Message.MessageId);
        Assert.Equal(2, again?.DeliveryCount);
        await _store.CompleteAsync(again!);
        Assert.Equal("m2", (await _store.ReceiveAsync(QueueNames.UserChanges))?.Message.MessageId);
    }

    [Fact]
    public async Task Session_still_busy_in_this_process_is_not_handed_out_even_after_its_lock_lapsed()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("a1", "user-a"), Message("a2", "user-a"), Message("b1", "user-b")]);
        var held = await _store.ReceiveAsync(QueueNames.UserChanges);
        _clock.Advance(_options.VisibilityTimeout + TimeSpan.FromSeconds(1));

        var next = await _store.ReceiveAsync(QueueNames.UserChanges, ["user-a"]);

        Assert.Equal("a1", held?.Message.MessageId);
        Assert.Equal("b1", next?.Message.MessageId);
        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges, ["user-a"]));
        // Nothing is due for a waiting consumer either: the holder wakes it when it settles.
        Assert.Null(await _store.NextDueAsync(QueueNames.UserChanges, ["user-a", "user-b"], CancellationToken.None));
    }

    [Fact]
    public async Task A_send_whose_caller_saw_it_cancelled_is_not_stored()
    {
        // Another connection holds the write lock, so the send waits in line behind it.
        await using var blocker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_path};Pooling=False");
        await blocker.OpenAsync();
        await using (var begin = blocker.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE";
            await begin.ExecuteNonQueryAsync();
        }

        using var cancel = new CancellationTokenSource();
        var send = _store.SendAsync(QueueNames.UserChanges, [Message("m1")], cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);

        await using (var commit = blocker.CreateCommand())
        {
            commit.CommandText = "COMMIT";
            await commit.ExecuteNonQueryAsync();
        }

        await _store.SendAsync(QueueNames.UserChanges, [Message("m2")]);
        Assert.Equal("m2", (await _store.ReceiveAsync(QueueNames.UserChanges))?.Message.MessageId);
        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));
    }

    [Fact]
    public async Task Completing_with_coalescing_also_removes_earlier_waiting_messages_of_its_kind_about_the_same_object()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("a1", "user-a"), Message("a2", "user-a"), Message("a3", "user-a"), Message("b1", "user-b")]);
        await _store.SendAsync(QueueNames.UserChanges, [Message("a-sync", "user-a") with { Kind = MessageKinds.UserSync }]);
        var first = await _store.ReceiveAsync(QueueNames.UserChanges);
        _clock.Advance(TimeSpan.FromSeconds(1));
        // A change after the handler started is not covered by what it read.
        await _store.SendAsync(QueueNames.UserChanges, [Message("a4", "user-a")]);

        var coalesced = await _store.CompleteAsync(first!, coalesceEarlier: true);

        Assert.Equal(2, coalesced);
        var left = new List<string>();
        while (await _store.ReceiveAsync(QueueNames.UserChanges) is { } next)
        {
            left.Add(next.Message.MessageId);
            await _store.CompleteAsync(next);
        }

        Assert.Equal(["b1", "a-sync", "a4"], left);
    }

    [Fact]
    public async Task Settling_after_the_lock_expired_and_the_message_was_taken_again_is_refused()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        var first = await _store.ReceiveAsync(QueueNames.UserChanges);
        _clock.Advance(_options.VisibilityTimeout + TimeSpan.FromSeconds(1));
        var second = await _store.ReceiveAsync(QueueNames.UserChanges);

        await Assert.ThrowsAsync<MessageLockLostException>(() => _store.CompleteAsync(first!));
        await _store.CompleteAsync(second!);
    }

    [Fact]
    public async Task Same_message_id_within_the_duplicate_window_is_stored_once()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1"), Message("m1")]);
        var first = await _store.ReceiveAsync(QueueNames.UserChanges);
        await _store.CompleteAsync(first!);
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);

        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));
    }

    [Fact]
    public async Task Same_message_id_after_the_duplicate_window_is_a_new_message()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        await _store.CompleteAsync((await _store.ReceiveAsync(QueueNames.UserChanges))!);
        _clock.Advance(TimeSpan.FromMinutes(11));

        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);

        Assert.NotNull(await _store.ReceiveAsync(QueueNames.UserChanges));
    }

    [Fact]
    public async Task Same_message_id_on_another_queue_is_not_a_duplicate()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        await _store.SendAsync(QueueNames.GroupChanges, [Message("m1")]);

        Assert.NotNull(await _store.ReceiveAsync(QueueNames.GroupChanges));
    }

    [Fact]
    public async Task Message_delivered_too_often_without_completion_is_dead_lettered_with_a_reason()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("poison")]);
        for (var i = 0; i < _options.MaxDeliveryCount; i++)
        {
            Assert.NotNull(await _store.ReceiveAsync(QueueNames.UserChanges));
            _clock.Advance(_options.VisibilityTimeout + TimeSpan.FromSeconds(1));
        }

        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));
        var dead = Assert.Single(await _store.ListDeadLettersAsync(QueueNames.UserChanges));
        Assert.Equal("poison", dead.MessageId);
        Assert.Equal("MaxDeliveryCountExceeded", dead.Reason);
        Assert.Equal(1, (await _store.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges).DeadLettered);
    }

    [Fact]
    public async Task Dead_lettered_message_keeps_the_reason_it_was_given_and_can_be_replayed()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        var received = await _store.ReceiveAsync(QueueNames.UserChanges);
        await _store.DeadLetterAsync(received!, "PermanentFailure", "No cmn_department named 'Sales'");

        var dead = Assert.Single(await _store.ListDeadLettersAsync());
        Assert.Equal("No cmn_department named 'Sales'", dead.Description);

        Assert.Equal(1, await _store.ReplayDeadLettersAsync(QueueNames.UserChanges));
        var replayed = await _store.ReceiveAsync(QueueNames.UserChanges);
        Assert.Equal("m1", replayed?.Message.MessageId);
        Assert.Equal(0, replayed!.Message.Attempt);
        Assert.Empty(await _store.ListDeadLettersAsync());
    }

    [Fact]
    public async Task Scheduled_message_stays_invisible_until_it_is_due()
    {
        await _store.ScheduleAsync(QueueNames.UserChanges, Message("later"), _clock.GetUtcNow().AddMinutes(5));

        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));
        Assert.Equal(1, (await _store.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges).Scheduled);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("later", (await _store.ReceiveAsync(QueueNames.UserChanges))?.Message.MessageId);
    }

    [Fact]
    public async Task Rescheduled_message_comes_back_later_with_its_next_attempt_number()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        var received = await _store.ReceiveAsync(QueueNames.UserChanges);

        await _store.RescheduleAsync(received!, _clock.GetUtcNow().AddSeconds(30), nextAttempt: 1);

        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));
        _clock.Advance(TimeSpan.FromSeconds(30));
        var again = await _store.ReceiveAsync(QueueNames.UserChanges);
        Assert.Equal(1, again?.Message.Attempt);
        Assert.Equal(1, again?.DeliveryCount);
    }

    [Fact]
    public async Task Messages_about_one_object_are_handed_out_one_at_a_time()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("a1", "user-a"), Message("a2", "user-a"), Message("b1", "user-b")]);

        var first = await _store.ReceiveAsync(QueueNames.UserChanges);
        var second = await _store.ReceiveAsync(QueueNames.UserChanges);
        var third = await _store.ReceiveAsync(QueueNames.UserChanges);

        Assert.Equal("a1", first?.Message.MessageId);
        Assert.Equal("b1", second?.Message.MessageId);
        Assert.Null(third);
        await _store.CompleteAsync(first!);
        Assert.Equal("a2", (await _store.ReceiveAsync(QueueNames.UserChanges))?.Message.MessageId);
    }

    [Fact]
    public async Task Concurrent_sends_are_all_committed()
    {
        var sends = Enumerable.Range(0, 500).Select(i => _store.SendAsync(QueueNames.UserChanges, [Message($"m{i}", $"user-{i}")]));

        await Task.WhenAll(sends);

        Assert.Equal(500, (await _store.GetStatsAsync()).Single(s => s.Queue == QueueNames.UserChanges).Depth);
    }

    [Fact]
    public async Task Consumer_waiting_for_work_wakes_as_soon_as_a_message_is_sent()
    {
        var waiting = _store.WaitForWorkAsync(QueueNames.UserChanges, TimeSpan.FromHours(1), CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);

        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Consumer_waiting_for_work_wakes_when_a_scheduled_message_falls_due()
    {
        await _store.ScheduleAsync(QueueNames.UserChanges, Message("later"), _clock.GetUtcNow().AddMinutes(3));
        var waiting = _store.WaitForWorkAsync(QueueNames.UserChanges, TimeSpan.FromHours(1), CancellationToken.None);
        await Task.Yield();
        Assert.False(waiting.IsCompleted);

        _clock.Advance(TimeSpan.FromMinutes(3));

        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Consumer_waiting_behind_a_busy_session_sleeps_until_the_holder_settles()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("a1", "user-a"), Message("a2", "user-a")]);
        var first = await _store.ReceiveAsync(QueueNames.UserChanges);
        Assert.Null(await _store.ReceiveAsync(QueueNames.UserChanges));

        // a2 is visible but its session is busy: it is not due before the holder's lock would expire (else consumers spin).
        Assert.Equal(_clock.GetUtcNow() + _options.VisibilityTimeout, await _store.NextDueAsync(QueueNames.UserChanges, CancellationToken.None));
        var waiting = _store.WaitForWorkAsync(QueueNames.UserChanges, TimeSpan.FromHours(1), CancellationToken.None);

        await _store.CompleteAsync(first!);

        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("a2", (await _store.ReceiveAsync(QueueNames.UserChanges))?.Message.MessageId);
    }

    [Fact]
    public async Task Stats_list_every_queue_even_when_empty()
    {
        var stats = await _store.GetStatsAsync();

        Assert.Equal(QueueNames.All, stats.Select(s => s.Queue));
    }
}
