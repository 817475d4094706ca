using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Messaging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Functions.Tests;

/// <summary>The Azure queue port over the Service Bus SDK's mocking model (mockable client and sender, model factory batches).</summary>
public sealed class ServiceBusQueueTests
{
    private readonly ServiceBusClient _client = Substitute.For<ServiceBusClient>();
    private readonly ServiceBusSender _sender = Substitute.For<ServiceBusSender>();
    private readonly List<List<ServiceBusMessage>> _batches = [];
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));

    public ServiceBusQueueTests()
    {
        _client.CreateSender(QueueNames.UserChanges).Returns(_sender);
        BatchesHold(100);
    }

    private void BatchesHold(int messages) =>
        _sender.CreateMessageBatchAsync(Arg.Any<CancellationToken>()).Returns(_ =>
        {
            var store = new List<ServiceBusMessage>();
            _batches.Add(store);
            return ServiceBusModelFactory.ServiceBusMessageBatch(256 * 1024, store, tryAddCallback: _ => store.Count < messages);
        });

    private ServiceBusQueue Queue() => new(_client, Options.Create(new ServiceBusOptions { FullyQualifiedNamespace = "example.servicebus.windows.net" }), _clock);

    private static ChangeMessage Message(string id) => new()
    {
        MessageId = id, SessionKey = "user-" + id, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = "user-" + id,
        ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "corr-" + id,
    };

    [Fact]
    public async Task Messages_are_sent_as_one_batch_each_with_its_dedupe_key_session_and_correlation_id()
    {
        await Queue().SendAsync(QueueNames.UserChanges, [Message("a"), Message("b")]);

        var batch = Assert.Single(_batches);
        await _sender.Received(1).SendMessagesAsync(Arg.Any<ServiceBusMessageBatch>(), Arg.Any<CancellationToken>());
        Assert.Equal(["a", "b"], batch.Select(m => m.MessageId));
        Assert.Equal(["user-a", "user-b"], batch.Select(m => m.SessionId));
        Assert.Equal(["corr-a", "corr-b"], batch.Select(m => m.CorrelationId));
        Assert.Equal("user-a", ChangeMessageJson.Deserialize(batch[0].Body.ToMemory().Span).SubjectId);
        Assert.Equal(MessageKinds.UserUpdated, batch[0].Subject);
    }

    [Fact]
    public async Task Messages_that_do_not_fit_one_batch_are_sent_in_as_many_as_needed_in_order()
    {
        BatchesHold(2);

        await Queue().SendAsync(QueueNames.UserChanges, [Message("a"), Message("b"), Message("c"), Message("d"), Message("e")]);

        Assert.Equal([["a", "b"], ["c", "d"], ["e"]], _batches.Select(b => b.Select(m => m.MessageId).ToArray()));
        await _sender.Received(3).SendMessagesAsync(Arg.Any<ServiceBusMessageBatch>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_message_larger_than_a_batch_fails_the_send_instead_of_being_dropped()
    {
        BatchesHold(0);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Queue().SendAsync(QueueNames.UserChanges, [Message("a")]));

        Assert.Contains("a", error.Message, StringComparison.Ordinal);
        await _sender.DidNotReceiveWithAnyArgs().SendMessagesAsync(default(ServiceBusMessageBatch)!, default);
    }

    [Fact]
    public async Task A_retry_is_scheduled_for_its_time_with_its_own_message_id_and_the_session()
    {
        var at = _clock.GetUtcNow().AddMinutes(2);

        await Queue().ScheduleAsync(QueueNames.UserChanges, Message("a~retry1"), at);

        await _sender.Received(1).ScheduleMessageAsync(
            Arg.Is<ServiceBusMessage>(m => m.MessageId == "a~retry1" && m.SessionId == "user-a~retry1"), at, Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task One_sender_per_queue_is_reused_across_writes()
    {
        var queue = Queue();

        await queue.SendAsync(QueueNames.UserChanges, [Message("a")]);
        await queue.SendAsync(QueueNames.UserChanges, [Message("b")]);

        _client.Received(1).CreateSender(QueueNames.UserChanges);
    }

    [Fact]
    public async Task A_write_still_unanswered_after_the_send_timeout_fails_with_a_timeout_naming_the_setting()
    {
        _sender.SendMessagesAsync(Arg.Any<ServiceBusMessageBatch>(), Arg.Any<CancellationToken>())
            .Returns(call => Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>()));

        var send = Queue().SendAsync(QueueNames.UserChanges, [Message("a")]);
        Assert.False(send.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(2));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => send);
        Assert.Contains("ServiceBus:SendTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_write_the_caller_cancels_stays_a_cancellation()
    {
        _sender.SendMessagesAsync(Arg.Any<ServiceBusMessageBatch>(), Arg.Any<CancellationToken>())
            .Returns(call => Task.Delay(Timeout.Infinite, call.Arg<CancellationToken>()));
        using var caller = new CancellationTokenSource();

        var send = Queue().SendAsync(QueueNames.UserChanges, [Message("a")], caller.Token);
        await caller.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
    }
}
