using Azure.Messaging.ServiceBus;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Retention;
using EntraSnow.Functions.Messaging;
using EntraSnow.Functions.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EntraSnow.Functions.Tests;

/// <summary>Retention of Service Bus's dead letters, over the SDK's mocking model: a fake dead-letter subqueue per queue.</summary>
public sealed class ServiceBusDeadLetterRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 3, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Cutoff = Now - TimeSpan.FromDays(30);

    private readonly DeadLetterSubqueues _deadLetters = new();
    private readonly IHeldCopies _heldCopies = Substitute.For<IHeldCopies>();

    private ServiceBusDeadLetterRetention Retention(int perRun = 5000) => new(
        new ServiceBusQueue(_deadLetters.Client, Options.Create(new ServiceBusOptions { FullyQualifiedNamespace = "example.servicebus.windows.net" }), TimeProvider.System),
        _heldCopies,
        Options.Create(new RetentionOptions { ServiceBusDeadLettersPerRun = perRun }),
        NullLogger<ServiceBusDeadLetterRetention>.Instance);

    [Fact]
    public async Task Dead_letters_older_than_the_retention_are_deleted_in_every_queue_and_younger_ones_stay_for_an_operator()
    {
        _deadLetters.Add(QueueNames.UserChanges, Now - TimeSpan.FromDays(45), Now - TimeSpan.FromDays(31), Now - TimeSpan.FromDays(29), Now - TimeSpan.FromDays(2));
        _deadLetters.Add(QueueNames.GroupChanges, Now - TimeSpan.FromDays(60));
        _deadLetters.Add(QueueNames.PasswordResets, Now - TimeSpan.FromDays(1));

        var deleted = await Retention().PurgeAsync(Cutoff, CancellationToken.None);

        Assert.Equal(3, deleted);
        Assert.Equal([Now - TimeSpan.FromDays(29), Now - TimeSpan.FromDays(2)], _deadLetters.Left(QueueNames.UserChanges));
        Assert.Empty(_deadLetters.Left(QueueNames.GroupChanges));
        Assert.Equal([Now - TimeSpan.FromDays(1)], _deadLetters.Left(QueueNames.PasswordResets));
        // The young letters received with the old ones are given back at once, not left locked.
        Assert.Equal(0, _deadLetters.Locked);
    }

    [Fact]
    public async Task A_queue_whose_oldest_dead_letter_is_younger_than_the_retention_is_only_peeked()
    {
        _deadLetters.Add(QueueNames.UserChanges, Now - TimeSpan.FromDays(3), Now - TimeSpan.FromDays(1));

        var deleted = await Retention().PurgeAsync(Cutoff, CancellationToken.None);

        Assert.Equal(0, deleted);
        Assert.Equal(2, _deadLetters.Left(QueueNames.UserChanges).Count);
        Assert.Equal(0, _deadLetters.Receives);
    }

    [Fact]
    public async Task One_run_deletes_at_most_its_limit_per_queue_and_the_next_run_goes_on()
    {
        _deadLetters.Add(QueueNames.UserChanges, [.. Enumerable.Range(0, 250).Select(i => Now - TimeSpan.FromDays(90) + TimeSpan.FromMinutes(i))]);
        var retention = Retention(perRun: 120);

        var first = await retention.PurgeAsync(Cutoff, CancellationToken.None);
        var second = await retention.PurgeAsync(Cutoff, CancellationToken.None);
        var third = await retention.PurgeAsync(Cutoff, CancellationToken.None);

        Assert.Equal([120, 120, 10], [first, second, third]);
        Assert.Empty(_deadLetters.Left(QueueNames.UserChanges));
        Assert.True(_deadLetters.LargestReceive <= ServiceBusDeadLetterRetention.BatchSize, $"{_deadLetters.LargestReceive} letters in one receive");
    }

    [Fact]
    public async Task The_records_of_held_copies_are_forgotten_at_the_dead_letters_cutoff()
    {
        _heldCopies.ForgetOlderThanAsync(Cutoff, Arg.Any<CancellationToken>()).Returns(2);

        await Retention().PurgeAsync(Cutoff, CancellationToken.None);

        await _heldCopies.Received(1).ForgetOlderThanAsync(Cutoff, Arg.Any<CancellationToken>());
    }

    [Fact]
    public void The_Functions_app_runs_the_dead_letter_purge_in_its_retention_job()
    {
        using var provider = FunctionsCompositionTests.Build(FunctionsCompositionTests.AzureSettings());

        Assert.Contains(provider.GetServices<IHostDataRetention>(), r => r is ServiceBusDeadLetterRetention);
        Assert.NotNull(provider.GetRequiredService<RetentionJob>());
    }

    /// <summary>Each queue's dead-letter subqueue as Service Bus keeps it: in dead-lettering order, peek-lock receives.</summary>
    private sealed class DeadLetterSubqueues
    {
        private readonly Dictionary<string, List<ServiceBusReceivedMessage>> _letters = new(StringComparer.Ordinal);
        private readonly HashSet<long> _locked = [];
        private long _sequence;

        public DeadLetterSubqueues()
        {
            Client.CreateReceiver(Arg.Any<string>(), Arg.Is<ServiceBusReceiverOptions>(o => o.SubQueue == SubQueue.DeadLetter && o.ReceiveMode == ServiceBusReceiveMode.PeekLock))
                .Returns(call => Receiver(call.ArgAt<string>(0)));
        }

        public ServiceBusClient Client { get; } = Substitute.For<ServiceBusClient>();

        public int Receives { get; private set; }

        public int LargestReceive { get; private set; }

        public int Locked => _locked.Count;

        public void Add(string queue, params DateTimeOffset[] enqueued)
        {
            var letters = LettersOf(queue);
            letters.AddRange(enqueued.Select(at => ServiceBusModelFactory.ServiceBusReceivedMessage(
                body: BinaryData.FromString("{}"), messageId: $"m{++_sequence}", sequenceNumber: _sequence, enqueuedTime: at, lockTokenGuid: Guid.NewGuid())));
        }

        public IReadOnlyList<DateTimeOffset> Left(string queue) => [.. LettersOf(queue).Select(l => l.EnqueuedTime)];

        private List<ServiceBusReceivedMessage> LettersOf(string queue) =>
            _letters.TryGetValue(queue, out var letters) ? letters : _letters[queue] = [];

        private ServiceBusReceiver Receiver(string queue)
        {
            var letters = LettersOf(queue);
            var receiver = Substitute.For<ServiceBusReceiver>();
            receiver.PeekMessageAsync(Arg.Any<long?>(), Arg.Any<CancellationToken>()).Returns(_ => letters.FirstOrDefault());
            receiver.ReceiveMessagesAsync(Arg.Any<int>(), Arg.Any<TimeSpan?>(), Arg.Any<CancellationToken>()).Returns(call =>
            {
                Receives++;
                var taken = letters.Where(l => !_locked.Contains(l.SequenceNumber)).Take(call.ArgAt<int>(0)).ToList();
                LargestReceive = Math.Max(LargestReceive, taken.Count);
                _locked.UnionWith(taken.Select(l => l.SequenceNumber));
                return (IReadOnlyList<ServiceBusReceivedMessage>)taken;
            });
            receiver.CompleteMessageAsync(Arg.Any<ServiceBusReceivedMessage>(), Arg.Any<CancellationToken>()).Returns(call =>
            {
                var letter = call.ArgAt<ServiceBusReceivedMessage>(0);
                Assert.True(_locked.Remove(letter.SequenceNumber), "completed a letter it had not locked");
                letters.Remove(letter);
                return Task.CompletedTask;
            });
            receiver.AbandonMessageAsync(Arg.Any<ServiceBusReceivedMessage>(), Arg.Any<IDictionary<string, object>>(), Arg.Any<CancellationToken>()).Returns(call =>
            {
                _locked.Remove(call.ArgAt<ServiceBusReceivedMessage>(0).SequenceNumber);
                return Task.CompletedTask;
            });
            return receiver;
        }
    }
}
