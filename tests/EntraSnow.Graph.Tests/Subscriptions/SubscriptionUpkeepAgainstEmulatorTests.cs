using System.Collections.Concurrent;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Scheduling;
using EntraSnow.Flows.Stores;
using EntraSnow.Flows.Subscriptions;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using NSubstitute;

namespace EntraSnow.Graph.Tests.Subscriptions;

/// <summary>The subscription manager with the real connector against the emulator, as the hosts wire it.</summary>
public sealed class SubscriptionUpkeepAgainstEmulatorTests
{
    private const string ClientState = "upkeep-client-state-value-0123456789";

    private sealed class MemoryCheckpoints : ICheckpointStore
    {
        private readonly ConcurrentDictionary<string, string> _values = new();

        public IReadOnlyCollection<string> Values => [.. _values.Values];

        public Task<string?> GetAsync(string key, CancellationToken cancellationToken = default) =>
            Task.FromResult(_values.TryGetValue(key, out var value) ? value : null);

        public Task SetAsync(string key, string value, CancellationToken cancellationToken = default)
        {
            _values[key] = value;
            return Task.CompletedTask;
        }

        public Task DeleteAsync(string key, CancellationToken cancellationToken = default)
        {
            _values.TryRemove(key, out _);
            return Task.CompletedTask;
        }

        public IAsyncEnumerable<StoredCheckpoint> ListAsync(string prefix, CancellationToken cancellationToken = default) =>
            _values.Where(v => v.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(v => v.Key, StringComparer.Ordinal)
                .Select(v => new StoredCheckpoint(v.Key, v.Value, DateTimeOffset.MinValue)).ToAsyncEnumerable();
    }

    private static ServiceProvider Host(GraphEmulatorServer graph, WebhookReceiver receiver, IMessageQueue queue,
        string clientState = ClientState, ICheckpointStore? checkpoints = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(graph.ConnectorSettings)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Graph:ClientState"] = clientState,
                ["Subscriptions:NotificationUrl"] = receiver.NotificationUrl,
                ["Subscriptions:LifecycleNotificationUrl"] = receiver.LifecycleUrl,
            })
            .Build();
        return new ServiceCollection()
            .AddFakeLogging()
            .AddSingleton(checkpoints ?? new MemoryCheckpoints())
            .AddSingleton(queue)
            .AddGraphConnector(configuration)
            .AddSubscriptionUpkeep(configuration)
            .BuildServiceProvider();
    }

    [Fact]
    public async Task Upkeep_subscribes_once_then_leaves_fresh_subscriptions_alone_and_never_logs_the_client_state()
    {
        await using var graph = await GraphEmulatorServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = Host(graph, receiver, Substitute.For<IMessageQueue>());
        var job = host.GetServices<IScheduledJob>().Single(j => j.Name == "subscription-upkeep");

        await job.RunAsync(CancellationToken.None);
        await job.RunAsync(CancellationToken.None);

        Assert.Equal(["/groups", "/users"], graph.Emulator.Subscriptions.Select(s => s["resource"]!.GetValue<string>()).Order());
        var logs = host.GetFakeLogCollector().GetSnapshot();
        Assert.NotEmpty(logs);
        Assert.DoesNotContain(logs, r => r.Message.Contains(ClientState, StringComparison.Ordinal)
            || (r.Exception?.ToString().Contains(ClientState, StringComparison.Ordinal) ?? false));
    }

    [Fact]
    public async Task A_subscription_graph_removed_is_recreated_and_group_changes_are_caught_up()
    {
        await using var graph = await GraphEmulatorServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var queue = Substitute.For<IMessageQueue>();
        await using var host = Host(graph, receiver, queue);
        await host.GetServices<IScheduledJob>().Single().RunAsync(CancellationToken.None);
        var groups = graph.Emulator.Subscriptions.Single(s => s["resource"]!.GetValue<string>() == "/groups")["id"]!.GetValue<string>();
        await graph.Emulator.SendLifecycleNotificationAsync(groups, "subscriptionRemoved");

        var handler = host.GetServices<IMessageHandler>().Single(h => h.Queue == QueueNames.SubscriptionLifecycle);
        await handler.HandleAsync(new ChangeMessage
        {
            MessageId = "lifecycle-1",
            SessionKey = groups,
            Kind = MessageKinds.LifecycleSubscriptionRemoved,
            TenantId = graph.Emulator.Options.TenantId,
            SubjectId = groups,
            ChangedAt = DateTimeOffset.UtcNow,
            CorrelationId = "corr",
            Properties = new Dictionary<string, string> { ["subscriptionId"] = groups, ["lifecycleEvent"] = "subscriptionRemoved" },
        }, CancellationToken.None);

        var now = graph.Emulator.Subscriptions;
        Assert.Equal(2, now.Count);
        Assert.DoesNotContain(now, s => s["id"]!.GetValue<string>() == groups);
        await queue.Received(1).SendAsync(QueueNames.GroupChanges,
            Arg.Is<IReadOnlyList<ChangeMessage>>(m => m.Single().Kind == MessageKinds.GroupDeltaResync), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Restarting_with_a_new_client_state_replaces_every_subscription_and_notifications_carry_the_new_secret()
    {
        const string newClientState = "rotated-client-state-value-9876543210";
        await using var graph = await GraphEmulatorServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var checkpoints = new MemoryCheckpoints();
        await using (var before = Host(graph, receiver, Substitute.For<IMessageQueue>(), ClientState, checkpoints))
        {
            await before.GetServices<IScheduledJob>().Single().RunAsync(CancellationToken.None);
        }

        var oldIds = graph.Emulator.Subscriptions.Select(s => s["id"]!.GetValue<string>()).ToList();
        await using var after = Host(graph, receiver, Substitute.For<IMessageQueue>(), newClientState, checkpoints);
        var job = after.GetServices<IScheduledJob>().Single();

        await job.RunAsync(CancellationToken.None);
        var rotated = graph.Emulator.Subscriptions.Select(s => s["id"]!.GetValue<string>()).ToList();
        await job.RunAsync(CancellationToken.None);

        Assert.Equal(["/groups", "/users"], graph.Emulator.Subscriptions.Select(s => s["resource"]!.GetValue<string>()).Order());
        Assert.Empty(rotated.Intersect(oldIds));
        Assert.Equal(rotated.Order(), graph.Emulator.Subscriptions.Select(s => s["id"]!.GetValue<string>()).Order()); // the second run changed nothing

        await graph.Emulator.CreateUserAsync("Rotation Check");
        var notification = await receiver.NextAsync();
        Assert.Equal(newClientState, notification["payload"]!["value"]![0]!["clientState"]!.GetValue<string>());

        var logs = after.GetFakeLogCollector().GetSnapshot();
        Assert.Contains(logs, r => r.Message.StartsWith("Rotated the client state of /users", StringComparison.Ordinal));
        // The emulator, like Graph's documentation, refuses a second subscription for the same resource and change type.
        Assert.Contains(logs, r => r.Message.StartsWith("Graph refused a second subscription for /groups", StringComparison.Ordinal));
        foreach (var secret in new[] { ClientState, newClientState })
        {
            Assert.DoesNotContain(checkpoints.Values, v => v.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(logs, r => r.Message.Contains(secret, StringComparison.Ordinal)
                || (r.Exception?.ToString().Contains(secret, StringComparison.Ordinal) ?? false));
        }
    }
}
