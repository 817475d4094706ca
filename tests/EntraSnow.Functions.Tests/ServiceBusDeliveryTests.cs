using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Consumers;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Functions.Tests;

public sealed class ServiceBusDeliveryTests
{
    private readonly IMessageHandler _handler = Substitute.For<IMessageHandler>();
    private readonly IMessageQueue _queue = Substitute.For<IMessageQueue>();
    private readonly ServiceBusMessageActions _actions = Substitute.For<ServiceBusMessageActions>();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));

    public ServiceBusDeliveryTests() => _handler.Queue.Returns(QueueNames.UserChanges);

    private ServiceBusDelivery Delivery() => new(
        [_handler],
        new MessageProcessor(Options.Create(new MessagingOptions { InlineRetries = 0, MaxAttempts = 3 }), _clock, NullLogger<MessageProcessor>.Instance),
        _queue,
        NullLogger<ServiceBusDelivery>.Instance);

    private static ServiceBusReceivedMessage Delivered(ChangeMessage message) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(body: BinaryData.FromString(ChangeMessageJson.Serialize(message)),
            messageId: message.MessageId, sessionId: message.SessionKey, lockTokenGuid: Guid.NewGuid(), deliveryCount: 1);

    private static ChangeMessage Message(int attempt = 0) => new()
    {
        MessageId = "abc123", SessionKey = "u1", Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = "u1",
        ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "corr", Attempt = attempt,
    };

    [Fact]
    public async Task Handled_message_is_completed()
    {
        var delivered = Delivered(Message());

        await Delivery().ProcessAsync(QueueNames.UserChanges, delivered, _actions, CancellationToken.None);

        await _handler.Received(1).HandleAsync(Arg.Is<ChangeMessage>(m => m.SubjectId == "u1" && m.CorrelationId == "corr"), Arg.Any<CancellationToken>());
        await _actions.Received(1).CompleteMessageAsync(delivered, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Permanent_failure_is_dead_lettered_with_the_reason_a_person_can_read()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new PermanentFailureException("No cmn_department named 'Sales'")));
        var delivered = Delivered(Message());

        await Delivery().ProcessAsync(QueueNames.UserChanges, delivered, _actions, CancellationToken.None);

        await _actions.Received(1).DeadLetterMessageAsync(delivered, null, "PermanentFailure", "No cmn_department named 'Sales'", Arg.Any<CancellationToken>());
        await _actions.DidNotReceiveWithAnyArgs().CompleteMessageAsync(default!, default);
    }

    [Fact]
    public async Task Transient_failure_schedules_a_later_copy_before_completing_the_original()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new TransientFailureException("ServiceNow 503")));
        var delivered = Delivered(Message());

        await Delivery().ProcessAsync(QueueNames.UserChanges, delivered, _actions, CancellationToken.None);

        Received.InOrder(() =>
        {
            _queue.ScheduleAsync(QueueNames.UserChanges,
                Arg.Is<ChangeMessage>(m => m.Attempt == 1 && m.MessageId == "abc123~retry1" && m.SubjectId == "u1"),
                Arg.Is<DateTimeOffset>(t => t > _clock.GetUtcNow()), Arg.Any<CancellationToken>());
            _actions.CompleteMessageAsync(delivered, Arg.Any<CancellationToken>());
        });
    }

    [Fact]
    public async Task If_the_retry_cannot_be_stored_the_original_is_not_completed()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new TransientFailureException("ServiceNow 503")));
        _queue.ScheduleAsync(default!, default!, default, default).ReturnsForAnyArgs(Task.FromException(new HttpRequestException("Service Bus down")));

        await Assert.ThrowsAsync<HttpRequestException>(() => Delivery().ProcessAsync(QueueNames.UserChanges, Delivered(Message()), _actions, CancellationToken.None));

        await _actions.DidNotReceiveWithAnyArgs().CompleteMessageAsync(default!, default);
    }

    [Fact]
    public async Task Malformed_body_is_dead_lettered_without_calling_the_handler()
    {
        var delivered = ServiceBusModelFactory.ServiceBusReceivedMessage(body: BinaryData.FromString("{not json"), messageId: "x");

        await Delivery().ProcessAsync(QueueNames.UserChanges, delivered, _actions, CancellationToken.None);

        await _actions.Received(1).DeadLetterMessageAsync(delivered, null, "MalformedMessage", Arg.Any<string>(), Arg.Any<CancellationToken>());
        await _handler.DidNotReceiveWithAnyArgs().HandleAsync(default!, default);
    }

    [Fact]
    public async Task Work_held_for_a_paused_connector_gets_a_new_id_each_time_so_duplicate_detection_never_drops_it()
    {
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(Task.FromException(new ConnectorUnavailableException("serviceNow", "ServiceNow refused the OAuth client credentials")));
        var scheduled = new List<ChangeMessage>();
        _queue.ScheduleAsync(default!, default!, default, default).ReturnsForAnyArgs(call =>
        {
            scheduled.Add(call.ArgAt<ChangeMessage>(1));
            return Task.CompletedTask;
        });
        var delivery = Delivery();

        // Refused, then refused again at the next probe: both copies keep attempt 0, and the second must not be taken
        // for the first (the queues detect duplicates over ten minutes; the probe interval is one).
        await delivery.ProcessAsync(QueueNames.UserChanges, Delivered(Message()), _actions, CancellationToken.None);
        _clock.Advance(new MessagingOptions().PausedRetryDelay);
        await delivery.ProcessAsync(QueueNames.UserChanges, Delivered(scheduled[0]), _actions, CancellationToken.None);

        Assert.Equal(2, scheduled.Count);
        Assert.All(scheduled, m => Assert.Equal(0, m.Attempt));
        Assert.NotEqual(scheduled[0].MessageId, scheduled[1].MessageId);
        Assert.All(scheduled, m => Assert.StartsWith("abc123~retry0~held", m.MessageId, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("abc", 1, "abc~retry1")]
    [InlineData("abc~retry1", 2, "abc~retry2")]
    [InlineData("abc~retry0~held1795000000000", 1, "abc~retry1")]
    public void Retry_ids_stay_traceable_to_the_original(string id, int attempt, string expected)
    {
        Assert.Equal(expected, ServiceBusDelivery.RetryMessageId(id, attempt));
    }
}
