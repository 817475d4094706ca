using System.Net;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.LocalHost.Hosting;
using EntraSnow.LocalHost.Queueing;
using EntraSnow.LocalHost.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.LocalHost.Tests.Queueing;

/// <summary>The local consumer over a real SQLite queue, in virtual time: what happens to a message whose handler misbehaves.</summary>
public sealed class QueueConsumerServiceTests : IAsyncDisposable
{
    private readonly string _data = LocalHostHarness.NewDataPath();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly SqliteQueueOptions _queueOptions = new() { VisibilityTimeout = TimeSpan.FromMinutes(2) };
    private readonly MessagingOptions _messaging = new() { InlineRetries = 0, MaxAttempts = 3 };
    private readonly SqliteQueueStore _store;
    private readonly IMessageHandler _handler = Substitute.For<IMessageHandler>();
    private readonly CancellationTokenSource _stop = new();
    private readonly ServiceNowRequestBudget _budget;
    private QueueConsumerService? _consumer;

    public QueueConsumerServiceTests()
    {
        _store = new SqliteQueueStore(Path.Combine(_data, "queues.db"), Options.Create(_queueOptions), _clock, NullLogger<SqliteQueueStore>.Instance);
        _handler.Queue.Returns(QueueNames.UserChanges);
        _budget = new ServiceNowRequestBudget(Options.Create(new ServiceNowOptions { InstanceUrl = "https://example.service-now.com", MaxConcurrency = 2 }), _clock);
    }

    private async Task StartAsync(params IMessageHandler[] more)
    {
        _consumer = new QueueConsumerService(_store, [_handler, .. more],
            new MessageProcessor(Options.Create(_messaging), _clock, NullLogger<MessageProcessor>.Instance), _budget,
            Options.Create(new LocalHostOptions { ConsumerConcurrency = 2 }), Options.Create(_queueOptions), _clock,
            NullLogger<QueueConsumerService>.Instance);
        await _consumer.StartAsync(_stop.Token);
    }

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

    private async Task<QueueStats> StatsAsync(string queue = QueueNames.UserChanges) => (await _store.GetStatsAsync()).Single(s => s.Queue == queue);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_consumer is not null)
        {
            await _consumer.StopAsync(CancellationToken.None);
        }

        await _store.DisposeAsync();
        _stop.Dispose();
        LocalHostHarness.TryDelete(_data);
    }

    [Fact]
    public async Task Unexpected_exception_reschedules_the_message_instead_of_holding_its_lock()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new IOException("disk I/O error")));
        await StartAsync();

        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);

        await Eventually.AssertAsync(async () => (await StatsAsync()).Scheduled == 1, "the message rescheduled");
        var stats = await StatsAsync();
        Assert.Equal(0, stats.InFlight);
        Assert.Equal(0, stats.DeadLettered);
    }

    [Fact]
    public async Task Unexpected_exception_every_time_ends_in_the_dead_letters_with_the_reason()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new IOException("disk I/O error")));
        await StartAsync();
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);

        for (var attempt = 1; attempt < _messaging.MaxAttempts; attempt++)
        {
            await Eventually.AssertAsync(async () => (await StatsAsync()).Scheduled == 1, $"reschedule {attempt}");
            _clock.Advance(_messaging.MaxRescheduleDelay);
        }

        await Eventually.AssertAsync(async () => (await StatsAsync()).DeadLettered == 1, "the message dead-lettered");
        var dead = Assert.Single(await _store.ListDeadLettersAsync(QueueNames.UserChanges));
        Assert.Equal("MaxAttemptsExceeded", dead.Reason);
        Assert.Contains("IOException: disk I/O error", dead.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_waiting_changes_to_one_user_are_handled_with_one_read()
    {
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1"), Message("m2"), Message("m3"), Message("other", "user-2")]);

        await StartAsync();

        await Eventually.AssertAsync(async () => (await StatsAsync()) is { Depth: 0, InFlight: 0 }, "the queue drained");
        await _handler.Received(1).HandleAsync(Arg.Is<ChangeMessage>(m => m.SubjectId == "user-1"), Arg.Any<CancellationToken>());
        await _handler.Received(1).HandleAsync(Arg.Is<ChangeMessage>(m => m.SubjectId == "user-2"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Lost_lock_cancels_the_handlers_work_and_no_other_worker_takes_the_session_meanwhile()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var running = 0;
        var overlapped = false;
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(async call =>
        {
            overlapped |= Interlocked.Exchange(ref running, 1) == 1;
            try
            {
                if (Interlocked.Increment(ref calls) > 1)
                {
                    return;
                }

                started.SetResult();
                var token = call.Arg<CancellationToken>();
                await Task.Delay(Timeout.Infinite, token).ContinueWith(_ => cancelled.SetResult(), TaskScheduler.Default);
                token.ThrowIfCancellationRequested();
            }
            finally
            {
                Volatile.Write(ref running, 0);
            }
        });
        await StartAsync();
        // Two kinds, so the second is not coalesced into the first.
        await _store.SendAsync(QueueNames.UserChanges, [Message("m1"), Message("m2") with { Kind = MessageKinds.UserSync }]);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The lock is taken from under the handler (as if its process had been declared dead); the next renewal finds out.
        await _store.ReleaseLocksOfDeadProcessAsync();
        _clock.Advance(_queueOptions.VisibilityTimeout / 2);

        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The cancelled message is delivered again, then the other one about the same user: never two at once.
        await Eventually.AssertAsync(async () => (await StatsAsync()) is { Depth: 0, InFlight: 0, Scheduled: 0 }, "both messages handled");
        Assert.Equal(3, Volatile.Read(ref calls));
        Assert.False(overlapped, "a second handler ran for the user while the first was still working");
    }

    [Fact]
    public async Task While_ServiceNow_asks_to_wait_no_message_is_taken_and_Graph_only_work_goes_on()
    {
        var lifecycle = Substitute.For<IMessageHandler>();
        lifecycle.Queue.Returns(QueueNames.SubscriptionLifecycle);
        var retryAfter = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        retryAfter.Headers.Add("Retry-After", "60");
        _budget.Observe(retryAfter);
        await StartAsync(lifecycle);

        await _store.SendAsync(QueueNames.UserChanges, [Message("m1")]);
        await _store.SendAsync(QueueNames.SubscriptionLifecycle, [Message("renew", "subscription-1")]);
        await Eventually.AssertAsync(async () => (await StatsAsync(QueueNames.SubscriptionLifecycle)).Depth == 0, "the Graph-only message handled");
        var userChangesWhilePaused = await StatsAsync();
        _clock.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(1, userChangesWhilePaused.Depth);
        Assert.Equal(0, userChangesWhilePaused.InFlight); // not locked while it could not run
        await Eventually.AssertAsync(async () => (await StatsAsync()).Depth == 0, "the user change handled once ServiceNow's wait is over");
        await _handler.Received(1).HandleAsync(Arg.Is<ChangeMessage>(m => m.MessageId == "m1"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Once_a_paused_connectors_probe_succeeds_the_held_work_follows_at_once_and_a_backoff_keeps_its_time()
    {
        _messaging.FirstRescheduleDelay = TimeSpan.FromMinutes(10);
        var refused = false;
        var handled = new System.Collections.Concurrent.ConcurrentBag<string>();
        var successes = 0;
        var probeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        async Task HandleAsync(ChangeMessage message)
        {
            if (message.MessageId == "backoff")
            {
                throw new TransientFailureException("ServiceNow answered 503");
            }

            if (Volatile.Read(ref refused))
            {
                throw new ConnectorUnavailableException("serviceNow", "ServiceNow refused the OAuth client credentials");
            }

            // The probe takes a while, as a real call does: the other users meet the pause meanwhile.
            if (Interlocked.Increment(ref successes) == 1)
            {
                await probeGate.Task;
            }

            handled.Add(message.MessageId);
        }

        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(call => HandleAsync(call.Arg<ChangeMessage>()));
        await StartAsync();

        // One message waits out a backoff of ten minutes; then ServiceNow's credential fails and five users wait for it.
        await _store.SendAsync(QueueNames.UserChanges, [Message("backoff", "user-0")]);
        await Eventually.AssertAsync(async () => (await StatsAsync()).Scheduled == 1, "the failing message rescheduled");
        Volatile.Write(ref refused, true);
        await _store.SendAsync(QueueNames.UserChanges, [.. Enumerable.Range(1, 5).Select(i => Message($"m{i}", $"user-{i}"))]);
        await Eventually.AssertAsync(async () => await StatsAsync() is { Scheduled: 6, Depth: 0, InFlight: 0 }, "the five users waiting for ServiceNow");

        // The credential is fixed. One probe interval later the probe gets through, and the four others follow without
        // virtual time moving again (before, they waited for their own probe time, one interval more).
        Volatile.Write(ref refused, false);
        _clock.Advance(_messaging.PausedRetryDelay);
        await Eventually.AssertAsync(async () => await StatsAsync() is { Scheduled: 5, Depth: 0, InFlight: 1 }, "the probe running while the others wait again");
        probeGate.SetResult();
        await Eventually.AssertAsync(() => handled.Count == 5, "all five users handled right after the probe");
        Assert.Equal(["m1", "m2", "m3", "m4", "m5"], handled.Order(StringComparer.Ordinal));

        // The backoff was not a pause: it keeps its ten minutes.
        await Eventually.AssertAsync(async () => await StatsAsync() is { Depth: 0, InFlight: 0, Scheduled: 1 }, "only the backoff left waiting");
        Assert.DoesNotContain("backoff", handled);
    }
}
