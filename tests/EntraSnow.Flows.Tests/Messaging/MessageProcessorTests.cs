using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Flows.Tests.Messaging;

public sealed class MessageProcessorTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly IMessageHandler _handler = Substitute.For<IMessageHandler>();
    // No inline delay: the retries happen without any timer, so no test depends on when a continuation runs.
    private readonly MessagingOptions _options = new() { InlineRetries = 2, InlineRetryDelay = TimeSpan.Zero, MaxAttempts = 5 };

    private MessageProcessor Processor() => new(Options.Create(_options), _clock, NullLogger<MessageProcessor>.Instance);

    private static ChangeMessage Message(int attempt = 0) => new()
    {
        MessageId = "m1",
        SessionKey = "u1",
        Kind = MessageKinds.UserUpdated,
        TenantId = "t",
        SubjectId = "u1",
        ChangedAt = DateTimeOffset.UnixEpoch,
        CorrelationId = "c",
        Attempt = attempt,
    };

    private Task<MessageDisposition> RunAsync(ChangeMessage message) => Processor().ProcessAsync(_handler, message, CancellationToken.None);

    [Fact]
    public async Task Handled_message_is_completed()
    {
        Assert.IsType<MessageDisposition.Complete>(await RunAsync(Message()));
    }

    [Fact]
    public async Task Permanent_failure_is_dead_lettered_with_its_reason_and_not_retried()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new PermanentFailureException("No cmn_department named 'Sales'")));

        var disposition = Assert.IsType<MessageDisposition.DeadLetter>(await RunAsync(Message()));

        Assert.Contains("Sales", disposition.Description, StringComparison.Ordinal);
        await _handler.ReceivedWithAnyArgs(1).HandleAsync(default!, default);
    }

    [Fact]
    public async Task Blip_is_retried_inside_the_delivery_and_then_completes()
    {
        var calls = 0;
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(_ => ++calls < 3 ? Task.FromException(new TransientFailureException("503")) : Task.CompletedTask);

        Assert.IsType<MessageDisposition.Complete>(await RunAsync(Message()));
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Lasting_outage_reschedules_with_a_growing_delay_instead_of_hammering()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new TransientFailureException("ServiceNow unreachable")));

        var first = Assert.IsType<MessageDisposition.Reschedule>(await RunAsync(Message(attempt: 0)));
        var firstDelay = first.VisibleAt - _clock.GetUtcNow();
        var third = Assert.IsType<MessageDisposition.Reschedule>(await RunAsync(Message(attempt: 2)));
        var thirdDelay = third.VisibleAt - _clock.GetUtcNow();

        Assert.Equal(1, first.NextAttempt);
        Assert.Equal(3, third.NextAttempt);
        Assert.True(thirdDelay > firstDelay * 3, $"{thirdDelay} should be well above {firstDelay}");
    }

    [Fact]
    public async Task Message_still_failing_after_max_attempts_is_dead_lettered()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new TransientFailureException("still down")));

        var disposition = Assert.IsType<MessageDisposition.DeadLetter>(await RunAsync(Message(attempt: 4)));

        Assert.Equal("MaxAttemptsExceeded", disposition.Reason);
        Assert.Contains("still down", disposition.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unexpected_exception_is_retried_then_rescheduled_with_backoff_naming_it()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new InvalidOperationException("database is locked")));

        var disposition = Assert.IsType<MessageDisposition.Reschedule>(await RunAsync(Message(attempt: 0)));

        Assert.Equal(1, disposition.NextAttempt);
        Assert.True(disposition.VisibleAt > _clock.GetUtcNow(), "the retry waits instead of coming back at once");
        Assert.Contains("InvalidOperationException", disposition.Reason, StringComparison.Ordinal);
        Assert.Contains("database is locked", disposition.Reason, StringComparison.Ordinal);
        await _handler.ReceivedWithAnyArgs(1 + _options.InlineRetries).HandleAsync(default!, default);
    }

    [Fact]
    public async Task Unexpected_exception_that_persists_is_dead_lettered_with_its_reason()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new UnauthorizedAccessException("token endpoint refused")));

        var disposition = Assert.IsType<MessageDisposition.DeadLetter>(await RunAsync(Message(attempt: _options.MaxAttempts - 1)));

        Assert.Equal("MaxAttemptsExceeded", disposition.Reason);
        Assert.Contains("UnauthorizedAccessException: token endpoint refused", disposition.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_by_the_host_is_not_a_failure_of_the_message()
    {
        using var stopping = new CancellationTokenSource();
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(async call =>
        {
            await stopping.CancelAsync();
            call.Arg<CancellationToken>().ThrowIfCancellationRequested();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Processor().ProcessAsync(_handler, Message(), stopping.Token));
        await _handler.ReceivedWithAnyArgs(1).HandleAsync(default!, default);
    }

    [Fact]
    public async Task Refused_credentials_pause_the_connector_and_the_message_waits_without_using_an_attempt()
    {
        var processor = Processor();
        _handler.Queue.Returns(QueueNames.UserChanges);
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(
            new EntraSnow.Connectors.ServiceNow.ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials.")));

        // Even on what would be its last attempt, the message is not dead-lettered: the credential is at fault, not it.
        var disposition = Assert.IsType<MessageDisposition.Reschedule>(await processor.ProcessAsync(_handler, Message(attempt: _options.MaxAttempts - 1), CancellationToken.None));

        Assert.Equal(_options.MaxAttempts - 1, disposition.NextAttempt);
        Assert.Equal(_clock.GetUtcNow() + _options.PausedRetryDelay, disposition.VisibleAt);
        var pause = Assert.Single(processor.Pauses.Current);
        Assert.Equal("serviceNow", pause.Connector);
        Assert.Contains("401", pause.Reason, StringComparison.Ordinal);
        await _handler.ReceivedWithAnyArgs(1).HandleAsync(default!, default);
    }

    [Fact]
    public async Task A_paused_connector_resumes_by_itself_when_a_message_on_its_queue_succeeds()
    {
        var processor = Processor();
        _handler.Queue.Returns(QueueNames.UserChanges);
        var revoked = true;
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(_ => revoked
            ? Task.FromException(new EntraSnow.Connectors.Graph.GraphRequestException("GET user: Graph answered 401.", 401, "InvalidAuthenticationToken"))
            : Task.CompletedTask);
        await processor.ProcessAsync(_handler, Message(), CancellationToken.None);
        Assert.Equal("graph", Assert.Single(processor.Pauses.Current).Connector);

        revoked = false;
        _clock.Advance(_options.PausedRetryDelay);
        var disposition = await processor.ProcessAsync(_handler, Message(), CancellationToken.None);

        Assert.IsType<MessageDisposition.Complete>(disposition);
        Assert.Empty(processor.Pauses.Current);
    }

    [Fact]
    public async Task A_paused_connector_is_tried_by_one_message_per_interval_while_the_others_wait_without_calling_it()
    {
        var processor = Processor();
        _handler.Queue.Returns(QueueNames.UserChanges);
        var revoked = true;
        var calls = 0;
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(_ =>
        {
            calls++;
            return revoked ? Task.FromException(new EntraSnow.Connectors.ServiceNow.ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials.")) : Task.CompletedTask;
        });
        await processor.ProcessAsync(_handler, Message(), CancellationToken.None);

        // 50 waiting users: none of them calls ServiceNow, each waits for the next probe with its attempt uncounted.
        for (var i = 0; i < 50; i++)
        {
            var held = Assert.IsType<MessageDisposition.Reschedule>(await processor.ProcessAsync(_handler, Message(attempt: 3), CancellationToken.None));
            Assert.Equal(_clock.GetUtcNow() + _options.PausedRetryDelay, held.VisibleAt);
            Assert.Equal(3, held.NextAttempt);
            Assert.Contains("serviceNow is paused", held.Reason, StringComparison.Ordinal);
            Assert.Equal("serviceNow", held.WaitsFor); // so a host can bring it forward when the pause lifts
        }

        Assert.Equal(1, calls);

        // At the probe time, the first of them tries it (refused again), the rest wait for the next probe.
        _clock.Advance(_options.PausedRetryDelay);
        for (var i = 0; i < 50; i++)
        {
            await processor.ProcessAsync(_handler, Message(), CancellationToken.None);
        }

        Assert.Equal(2, calls);
        var pause = Assert.Single(processor.Pauses.Current);
        Assert.Equal(_clock.GetUtcNow() + _options.PausedRetryDelay, pause.NextProbe);
        Assert.Equal([QueueNames.UserChanges], pause.Queues);

        // The secret is fixed: the next probe gets through, lifts the pause, and the waiting work flows again.
        revoked = false;
        _clock.Advance(_options.PausedRetryDelay);
        var probe = Assert.IsType<MessageDisposition.Complete>(await processor.ProcessAsync(_handler, Message(), CancellationToken.None));
        Assert.Equal(["serviceNow"], probe.Resumed); // the host releases the held work at once
        Assert.Empty(processor.Pauses.Current);
        var next = Assert.IsType<MessageDisposition.Complete>(await processor.ProcessAsync(_handler, Message(), CancellationToken.None));
        Assert.Empty(next.Resumed);
        Assert.Equal(4, calls);
    }

    [Fact]
    public async Task A_pause_holds_only_the_queues_whose_work_met_the_refused_credential()
    {
        var processor = Processor();
        var users = Substitute.For<IMessageHandler>();
        users.Queue.Returns(QueueNames.UserChanges);
        users.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new EntraSnow.Connectors.ServiceNow.ServiceNowUnauthorizedException("refused")));
        _handler.Queue.Returns(QueueNames.SubscriptionLifecycle);
        await processor.ProcessAsync(users, Message(), CancellationToken.None);

        Assert.IsType<MessageDisposition.Complete>(await processor.ProcessAsync(_handler, Message(), CancellationToken.None));
        Assert.Single(processor.Pauses.Current);
    }

    [Fact]
    public async Task Server_asking_to_wait_longer_gets_its_wait_at_the_reschedule()
    {
        _options.InlineRetryDelay = TimeSpan.FromSeconds(1);
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new TransientFailureException("429", retryAfter: TimeSpan.FromMinutes(10))));

        // A wait this long is not spent blocking the delivery: no inline retry, straight to the reschedule.
        var disposition = Assert.IsType<MessageDisposition.Reschedule>(await RunAsync(Message()));

        Assert.True(disposition.VisibleAt - _clock.GetUtcNow() >= TimeSpan.FromMinutes(9.9));
        await _handler.ReceivedWithAnyArgs(1).HandleAsync(default!, default);
    }

    [Fact]
    public void Default_schedule_outlasts_a_four_hour_outage()
    {
        var defaults = new MessagingOptions();
        var total = Enumerable.Range(0, defaults.MaxAttempts - 1).Aggregate(TimeSpan.Zero, (sum, a) => sum + MessageProcessor.RescheduleDelay(defaults, a));

        Assert.True(total > TimeSpan.FromHours(4), $"total wait {total}");
    }
}
