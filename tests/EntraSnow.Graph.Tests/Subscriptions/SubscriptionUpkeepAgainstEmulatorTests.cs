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
    }

    private static ServiceProvider Host(GraphEmulatorServer graph, WebhookReceiver receiver, IMessageQueue queue)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(graph.ConnectorSettings)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Graph:ClientState"] = ClientState,
                ["Subscriptions:NotificationUrl"] = receiver.NotificationUrl,
                ["Subscriptions:LifecycleNotificationUrl"] = receiver.LifecycleUrl,
            })
            .Build();
        return new ServiceCollection()
            .AddFakeLogging()
            .AddSingleton<ICheckpointStore, MemoryCheckpoints>()
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
}
