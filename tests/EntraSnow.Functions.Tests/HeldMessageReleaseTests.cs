using Azure.Data.Tables;
using Azure.Messaging.ServiceBus;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Consumers;
using EntraSnow.Functions.Messaging;
using EntraSnow.Stores.AzureTables;
using EntraSnow.Tests.Shared;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EntraSnow.Functions.Tests;

/// <summary>
/// Work held for a paused connector in Azure follows at once when a probe lifts the pause: the consumers over a fake
/// Service Bus queue (the SDK's mockable sender: scheduled messages by sequence number, cancels, sends) and the record
/// of held copies in Table storage (Azurite).
/// </summary>
public sealed class HeldMessageReleaseTests : IClassFixture<AzuriteFixture>
{
    private readonly AzuriteFixture _azurite;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
    private readonly FakeQueue _bus = new();
    private readonly IMessageHandler _handler = Substitute.For<IMessageHandler>();
    private readonly List<string> _handled = [];
    private readonly string _prefix = "H" + Guid.NewGuid().ToString("N")[..10];
    private bool _revoked = true;

    public HeldMessageReleaseTests(AzuriteFixture azurite)
    {
        _azurite = azurite;
        _handler.Queue.Returns(QueueNames.UserChanges);
        _handler.HandleAsync(default!, default).ReturnsForAnyArgs(call =>
        {
            if (_revoked)
            {
                return Task.FromException(new ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials."));
            }

            _handled.Add(call.Arg<ChangeMessage>().SubjectId);
            return Task.CompletedTask;
        });
    }

    private ServiceBusDelivery Instance()
    {
        var queue = new ServiceBusQueue(_bus.Client, Options.Create(new ServiceBusOptions { FullyQualifiedNamespace = "example.servicebus.windows.net" }), _clock);
        var held = new HeldMessageRelease(queue, new TableHeldCopies(new TableServiceClient(_azurite.ConnectionString), _clock, _prefix), NullLogger<HeldMessageRelease>.Instance);
        var processor = new MessageProcessor(Options.Create(new MessagingOptions { InlineRetries = 0 }), _clock, NullLogger<MessageProcessor>.Instance);
        return new ServiceBusDelivery([_handler], processor, queue, NullLogger<ServiceBusDelivery>.Instance, held);
    }

    private static ChangeMessage Change(string user) => new()
    {
        MessageId = "m-" + user, SessionKey = user, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = user,
        ChangedAt = DateTimeOffset.UnixEpoch, CorrelationId = "c-" + user,
    };

    private Task DeliverAsync(ServiceBusDelivery consumer, ServiceBusReceivedMessage message) =>
        consumer.ProcessAsync(QueueNames.UserChanges, message, Substitute.For<ServiceBusMessageActions>(), CancellationToken.None);

    /// <summary>Three users' changes meet the revoked credential: the first pauses ServiceNow, all three are held as scheduled copies.</summary>
    private async Task<ServiceBusDelivery> HoldThreeAsync()
    {
        var consumer = Instance();
        foreach (var (user, sequenceNumber) in new[] { ("u1", 101L), ("u2", 102L), ("u3", 103L) })
        {
            await DeliverAsync(consumer, FakeQueue.Delivered(Change(user), sequenceNumber));
        }

        Assert.Equal(3, _bus.Scheduled.Count);
        Assert.All(_bus.Scheduled.Values, m => Assert.Contains("~held", m.MessageId, StringComparison.Ordinal));
        return consumer;
    }

    [Fact]
    public async Task When_the_probe_succeeds_the_held_work_is_sent_at_once_and_each_change_is_processed_once()
    {
        var consumer = await HoldThreeAsync();

        // The secret is fixed; at the probe time Service Bus delivers u1's held copy: it succeeds and lifts the pause.
        _revoked = false;
        _clock.Advance(new MessagingOptions().PausedRetryDelay);
        await DeliverAsync(consumer, _bus.Activate(_bus.Scheduled.Single(s => s.Value.SessionId == "u1").Key));

        // u2 and u3 did not wait for their scheduled time: their replacements were sent now and the scheduled copies cancelled.
        Assert.Empty(_bus.Scheduled);
        Assert.Equal(["u2", "u3"], _bus.Sent.Select(m => m.SessionId).Order());
        Assert.All(_bus.Sent, m => Assert.EndsWith("~released", m.MessageId, StringComparison.Ordinal));

        foreach (var sent in _bus.TakeSent())
        {
            await DeliverAsync(consumer, sent);
        }

        Assert.Equal(["u1", "u2", "u3"], _handled.Order());
    }

    [Fact]
    public async Task A_held_copy_activated_before_its_cancel_and_its_replacement_are_both_delivered_and_only_one_is_processed()
    {
        var consumer = await HoldThreeAsync();
        _revoked = false;
        _clock.Advance(new MessagingOptions().PausedRetryDelay);
        // u2's held copy became active just before the release reached it: the cancel finds no scheduled message.
        var u2Held = _bus.Activate(_bus.Scheduled.Single(s => s.Value.SessionId == "u2").Key);

        await DeliverAsync(consumer, _bus.Activate(_bus.Scheduled.Single(s => s.Value.SessionId == "u1").Key));
        var replacements = _bus.TakeSent();
        Assert.Equal(["u2", "u3"], replacements.Select(m => m.SessionId).Order());

        // Both copies of u2 are delivered, in either order on two instances; the second is completed without processing.
        await DeliverAsync(Instance(), replacements.Single(m => m.SessionId == "u2"));
        await DeliverAsync(consumer, u2Held);
        await DeliverAsync(consumer, replacements.Single(m => m.SessionId == "u3"));

        Assert.Equal(["u1", "u2", "u3"], _handled.Order());
    }

    [Fact]
    public async Task A_held_copy_delivered_at_its_time_before_any_release_is_processed_and_not_released_again()
    {
        var consumer = await HoldThreeAsync();
        _revoked = false;
        _clock.Advance(new MessagingOptions().PausedRetryDelay);
        var u2Held = _bus.Activate(_bus.Scheduled.Single(s => s.Value.SessionId == "u2").Key);
        var u1Held = _bus.Activate(_bus.Scheduled.Single(s => s.Value.SessionId == "u1").Key);

        // u2's copy is processed first on an instance that had not met the pause, then u1's here (the probe): only u3 is released.
        await DeliverAsync(Instance(), u2Held);
        await DeliverAsync(consumer, u1Held);
        var released = _bus.TakeSent();
        Assert.Equal(["u3"], released.Select(m => m.SessionId));
        await DeliverAsync(consumer, released[0]);

        // u2's redelivery (its lock was lost) is still processed: it is the same message, not another copy.
        await DeliverAsync(consumer, u2Held);

        Assert.Equal(["u1", "u2", "u2", "u3"], _handled.Order());
        Assert.Empty(_bus.Scheduled);
    }

    /// <summary>One queue of a Service Bus namespace, as far as the SDK's sender shows it: scheduled messages by sequence number, sends.</summary>
    private sealed class FakeQueue
    {
        private readonly List<ServiceBusReceivedMessage> _sent = [];
        private long _sequence = 1;

        public FakeQueue()
        {
            var sender = Substitute.For<ServiceBusSender>();
            Client.CreateSender(Arg.Any<string>()).Returns(sender);
            sender.ScheduleMessageAsync(Arg.Any<ServiceBusMessage>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns(call =>
            {
                var sequence = ++_sequence;
                Scheduled[sequence] = call.Arg<ServiceBusMessage>();
                return sequence;
            });
            sender.CancelScheduledMessageAsync(Arg.Any<long>(), Arg.Any<CancellationToken>()).Returns(call =>
                Scheduled.Remove(call.Arg<long>())
                    ? Task.CompletedTask
                    : Task.FromException(new ServiceBusException("Messages not found. Missing sequence numbers.", ServiceBusFailureReason.MessageNotFound)));
            sender.CreateMessageBatchAsync(Arg.Any<CancellationToken>()).Returns(_ =>
            {
                var batch = new List<ServiceBusMessage>();
                return ServiceBusModelFactory.ServiceBusMessageBatch(256 * 1024, batch, tryAddCallback: m =>
                {
                    _sent.Add(Received(m, ++_sequence));
                    return true;
                });
            });
        }

        public ServiceBusClient Client { get; } = Substitute.For<ServiceBusClient>();

        public Dictionary<long, ServiceBusMessage> Scheduled { get; } = [];

        public IReadOnlyList<ServiceBusReceivedMessage> Sent => _sent;

        public List<ServiceBusReceivedMessage> TakeSent()
        {
            var sent = _sent.ToList();
            _sent.Clear();
            return sent;
        }

        /// <summary>The scheduled message's time has come: Service Bus makes it active, and it is no longer scheduled.</summary>
        public ServiceBusReceivedMessage Activate(long sequenceNumber)
        {
            var message = Scheduled[sequenceNumber];
            Scheduled.Remove(sequenceNumber);
            return Received(message, sequenceNumber);
        }

        public static ServiceBusReceivedMessage Delivered(ChangeMessage message, long sequenceNumber) =>
            Received(ServiceBusQueue.ToServiceBus(message), sequenceNumber);

        private static ServiceBusReceivedMessage Received(ServiceBusMessage message, long sequenceNumber) =>
            ServiceBusModelFactory.ServiceBusReceivedMessage(body: message.Body, messageId: message.MessageId, sessionId: message.SessionId,
                sequenceNumber: sequenceNumber, lockTokenGuid: Guid.NewGuid(), deliveryCount: 1);
    }
}
