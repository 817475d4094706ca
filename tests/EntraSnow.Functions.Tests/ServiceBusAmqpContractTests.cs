using EntraSnow.Flows.Messaging;
using EntraSnow.Functions.Messaging;
using EntraSnow.Functions.Tests.ServiceBusAmqp;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EntraSnow.Functions.Tests;

/// <summary>
/// The queue port over the real Service Bus SDK and AMQP 1.0, against a loopback namespace (AMQPNetLite) reached with
/// the emulator connection string form: what arrives is what Service Bus would hold.
/// </summary>
public sealed class ServiceBusAmqpContractTests : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    private (LoopbackServiceBus Bus, IMessageQueue Queue) Namespace(uint maxMessageSize = 256 * 1024)
    {
        var bus = new LoopbackServiceBus([QueueNames.UserChanges, QueueNames.GroupChanges], maxMessageSize);
        _owned.Add(bus);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ServiceBus:ConnectionString"] = bus.ConnectionString,
            // A first connection on a busy machine takes longer than the intake's 2 s; the budget is not what is tested here.
            ["ServiceBus:SendTimeout"] = "00:00:45",
        }).Build();
        var provider = new ServiceCollection().AddSingleton(TimeProvider.System).AddServiceBusQueue(configuration).BuildServiceProvider();
        _owned.Add(provider);
        return (bus, provider.GetRequiredService<IMessageQueue>());
    }

    private static ChangeMessage Message(string id, string subject = "user-1", string padding = "") => new()
    {
        MessageId = id, SessionKey = subject, Kind = MessageKinds.UserUpdated, TenantId = "t1", SubjectId = subject,
        ChangedAt = new DateTimeOffset(2026, 12, 2, 6, 0, 0, TimeSpan.Zero), CorrelationId = "corr-" + id,
        Properties = padding.Length == 0 ? new Dictionary<string, string>() : new Dictionary<string, string> { ["padding"] = padding },
    };

    [Fact]
    public async Task Messages_arrive_in_one_batch_each_with_its_message_id_session_id_and_correlation_id()
    {
        var (bus, queue) = Namespace();

        await queue.SendAsync(QueueNames.UserChanges, [Message("m1", "user-1"), Message("m2", "user-2"), Message("m3", "user-1")]);

        var held = bus.In(QueueNames.UserChanges);
        Assert.Equal(["m1", "m2", "m3"], held.Select(m => m.MessageId));
        Assert.Equal(["user-1", "user-2", "user-1"], held.Select(m => m.SessionId));
        Assert.Equal(["corr-m1", "corr-m2", "corr-m3"], held.Select(m => m.CorrelationId));
        Assert.All(held, m => Assert.Equal(MessageKinds.UserUpdated, m.Subject));
        Assert.All(held, m => Assert.Equal("application/json", m.ContentType));
        Assert.Equal("user-2", ChangeMessageJson.Deserialize(System.Text.Encoding.UTF8.GetBytes(held[1].Body)).SubjectId);
        Assert.Equal("user-2", held[1].ApplicationProperties["subjectId"]);
        Assert.Equal(1, bus.Transfers[QueueNames.UserChanges]);
        Assert.Contains(bus.TokenAudiences, audience => audience.EndsWith(QueueNames.UserChanges, StringComparison.Ordinal));
    }

    [Fact]
    public async Task More_messages_than_the_link_takes_at_once_go_in_several_batches_all_in_order()
    {
        var (bus, queue) = Namespace(maxMessageSize: 4096);
        var messages = Enumerable.Range(1, 12).Select(i => Message($"m{i:00}", $"user-{i}", new string('x', 900))).ToList();

        await queue.SendAsync(QueueNames.UserChanges, messages);

        Assert.Equal(messages.Select(m => m.MessageId), bus.In(QueueNames.UserChanges).Select(m => m.MessageId));
        Assert.True(bus.Transfers[QueueNames.UserChanges] > 1, $"{bus.Transfers[QueueNames.UserChanges]} transfer(s)");
    }

    [Fact]
    public async Task A_retry_is_scheduled_through_the_management_node_for_its_time_with_its_own_id_and_the_session()
    {
        var (bus, queue) = Namespace();
        var visibleAt = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);

        await queue.ScheduleAsync(QueueNames.GroupChanges, Message("m1~retry1", "group-9"), visibleAt);

        var held = Assert.Single(bus.In(QueueNames.GroupChanges));
        Assert.Equal("m1~retry1", held.MessageId);
        Assert.Equal("group-9", held.SessionId);
        Assert.Equal(visibleAt, held.ScheduledFor);
        Assert.Empty(bus.In(QueueNames.UserChanges));
    }

    [Fact]
    public async Task A_write_the_namespace_refuses_fails_and_the_next_one_goes_through()
    {
        var (bus, queue) = Namespace();
        bus.Refusing = true;

        // amqp:not-allowed, as a namespace answers a write it will not take; the SDK raises it as InvalidOperationException.

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => queue.SendAsync(QueueNames.UserChanges, [Message("m1")]));
        bus.Refusing = false;
        await queue.SendAsync(QueueNames.UserChanges, [Message("m2")]);

        Assert.Contains("does not accept", refused.Message, StringComparison.Ordinal);
        Assert.Equal(["m2"], bus.In(QueueNames.UserChanges).Select(m => m.MessageId));
    }

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
    }
}
