using Azure.Data.Tables;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Stores.AzureTables;
using EntraSnow.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace EntraSnow.Provisioning.Tests.AzureTables;

/// <summary>
/// A paused connector shared by the Functions app's instances through Table storage (Azurite): each "instance" is its own
/// <see cref="MessageProcessor"/> over its own <see cref="TableConnectorPauses"/>, as separate processes would be.
/// </summary>
public sealed class SharedConnectorPausesTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);

    private readonly string _prefix = "P" + Guid.NewGuid().ToString("N")[..10];
    private readonly FakeTimeProvider _clock = new(Start);
    private readonly MessagingOptions _options = new() { InlineRetries = 0 };

    private TableConnectorPauses Store() => new(new TableServiceClient(azurite.ConnectionString), _prefix);

    private MessageProcessor Instance() => new(Options.Create(_options), _clock, NullLogger<MessageProcessor>.Instance, Store());

    private static ConnectorPause Pause(string queue, DateTimeOffset since, DateTimeOffset nextProbe) =>
        new("serviceNow", "credentials refused (401)", since, [queue], nextProbe);

    private static ChangeMessage Message(string subject) => new()
    {
        MessageId = "m-" + subject, SessionKey = subject, Kind = MessageKinds.UserUpdated, TenantId = "t", SubjectId = subject,
        ChangedAt = Start, CorrelationId = "c-" + subject,
    };

    [Fact]
    public async Task A_pause_recorded_by_one_instance_is_read_by_another_joins_their_queues_and_is_lifted_for_both()
    {
        var first = Store();
        var second = Store();

        await first.SaveAsync(Pause(QueueNames.UserChanges, Start, Start.AddMinutes(1)));
        await second.SaveAsync(Pause(QueueNames.GroupChanges, Start.AddSeconds(5), Start.AddMinutes(2)));

        var seen = Assert.Single(await first.ListAsync());
        Assert.Equal("serviceNow", seen.Connector);
        Assert.Equal([QueueNames.GroupChanges, QueueNames.UserChanges], seen.Queues);
        Assert.Equal(Start, seen.Since);
        Assert.Equal(Start.AddMinutes(2), seen.NextProbe);

        await second.LiftAsync("serviceNow");
        await first.LiftAsync("serviceNow");
        Assert.Empty(await first.ListAsync());
    }

    [Fact]
    public async Task A_due_probe_is_taken_by_exactly_one_of_the_instances_asking_at_once()
    {
        await Store().SaveAsync(Pause(QueueNames.UserChanges, Start, Start));
        var next = Start.AddMinutes(1);

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Store().TakeProbeAsync("serviceNow", Start, next)));

        Assert.Single(answers, a => a is null);
        Assert.All(answers.Where(a => a is not null), a => Assert.Equal(next, a));
        Assert.Equal(next, Assert.Single(await Store().ListAsync()).NextProbe);
        // Not due yet: nobody takes it.
        Assert.Equal(next, await Store().TakeProbeAsync("serviceNow", Start.AddSeconds(30), Start.AddSeconds(90)));
    }

    [Fact]
    public async Task A_credential_refused_on_one_instance_holds_the_work_of_the_others_until_a_probe_succeeds_anywhere()
    {
        var revoked = true;
        var calls = 0;
        var handler = Substitute.For<IMessageHandler>();
        handler.Queue.Returns(QueueNames.UserChanges);
        handler.HandleAsync(default!, default).ReturnsForAnyArgs(_ =>
        {
            calls++;
            return revoked ? Task.FromException(new ServiceNowUnauthorizedException("ServiceNow refused the OAuth client credentials.")) : Task.CompletedTask;
        });
        var a = Instance();
        var b = Instance();
        var c = Instance();

        // Instance a meets the refusal: b and c hold their work without calling ServiceNow.
        Assert.Equal("serviceNow", Assert.IsType<MessageDisposition.Reschedule>(await a.ProcessAsync(handler, Message("u1"), CancellationToken.None)).WaitsFor);
        foreach (var instance in new[] { b, c })
        {
            var held = Assert.IsType<MessageDisposition.Reschedule>(await instance.ProcessAsync(handler, Message("u2"), CancellationToken.None));
            Assert.Equal("serviceNow", held.WaitsFor);
            Assert.Equal(Start + _options.PausedRetryDelay, held.VisibleAt);
            Assert.Equal("serviceNow", Assert.Single(instance.Pauses.Current).Connector); // what health shows
        }

        Assert.Equal(1, calls);

        // At the probe time, one probe among the three instances, not one each.
        _clock.Advance(_options.PausedRetryDelay);
        foreach (var instance in new[] { b, c, a })
        {
            await instance.ProcessAsync(handler, Message("u3"), CancellationToken.None);
        }

        Assert.Equal(2, calls);

        // The secret is fixed: the next probe, on whichever instance, lifts the pause for all of them.
        revoked = false;
        _clock.Advance(_options.PausedRetryDelay);
        var probe = Assert.IsType<MessageDisposition.Complete>(await c.ProcessAsync(handler, Message("u4"), CancellationToken.None));
        Assert.Equal(["serviceNow"], probe.Resumed);
        Assert.Empty(await Store().ListAsync());

        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.IsType<MessageDisposition.Complete>(await a.ProcessAsync(handler, Message("u5"), CancellationToken.None));
        Assert.IsType<MessageDisposition.Complete>(await b.ProcessAsync(handler, Message("u6"), CancellationToken.None));
        Assert.Empty(a.Pauses.Current);
        Assert.Empty(b.Pauses.Current);
        Assert.Equal(5, calls);
    }
}
