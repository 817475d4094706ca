using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Stores;
using EntraSnow.Flows.Subscriptions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace EntraSnow.Graph.Tests.Subscriptions;

public sealed class SubscriptionLifecycleHandlerTests
{
    private const string NotificationUrl = "https://func.example/api/graph/notifications";

    private readonly IGraphSubscriptions _graph = Substitute.For<IGraphSubscriptions>();
    private readonly ICheckpointStore _checkpoints = Substitute.For<ICheckpointStore>();
    private readonly IMessageQueue _queue = Substitute.For<IMessageQueue>();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));

    private const string ClientState = "secret";

    private SubscriptionLifecycleHandler Handler()
    {
        var options = Options.Create(new SubscriptionOptions { NotificationUrl = NotificationUrl, ClientState = ClientState });
        var upkeep = new SubscriptionUpkeep(_graph, _checkpoints, options, _clock, NullLogger<SubscriptionUpkeep>.Instance);
        return new SubscriptionLifecycleHandler(_graph, upkeep, _queue, _checkpoints, NullLogger<SubscriptionLifecycleHandler>.Instance);
    }

    private static ChangeMessage Lifecycle(string kind, string lifecycleEvent, string subscriptionId = "sub-1") => new()
    {
        MessageId = $"lifecycle-{lifecycleEvent}-{subscriptionId}",
        SessionKey = subscriptionId,
        Kind = kind,
        TenantId = "tenant-1",
        SubjectId = subscriptionId,
        ChangedAt = new DateTimeOffset(2026, 11, 24, 7, 59, 0, TimeSpan.Zero),
        CorrelationId = "corr-1",
        Properties = new Dictionary<string, string> { ["subscriptionId"] = subscriptionId, ["lifecycleEvent"] = lifecycleEvent },
    };

    private void ResourceOf(string subscriptionId, string? resource) =>
        _checkpoints.GetAsync(SubscriptionUpkeep.ResourceKey(subscriptionId), Arg.Any<CancellationToken>()).Returns(resource);

    /// <summary>Upkeep made the subscription with the current client state, so it is not rotated.</summary>
    private void CreatedWithCurrentClientState(string subscriptionId) =>
        _checkpoints.GetAsync(SubscriptionUpkeep.ClientStateKey(subscriptionId), Arg.Any<CancellationToken>())
            .Returns(SubscriptionUpkeep.ClientStateFingerprint(subscriptionId, ClientState));

    private void GraphHasFreshSubscriptions() => _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
    [
        new GraphSubscription { Id = "u", Resource = "/users", ChangeType = "updated,deleted", NotificationUrl = NotificationUrl, ExpirationDateTime = _clock.GetUtcNow().AddDays(20) },
        new GraphSubscription { Id = "g", Resource = "/groups", ChangeType = "updated,deleted", NotificationUrl = NotificationUrl, ExpirationDateTime = _clock.GetUtcNow().AddDays(20) },
    ]);

    [Fact]
    public async Task Reauthorization_required_reauthorizes_the_subscription()
    {
        await Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleReauthorizationRequired, "reauthorizationRequired"), CancellationToken.None);

        await _graph.Received(1).ReauthorizeAsync("sub-1", Arg.Any<CancellationToken>());
        await _queue.DidNotReceiveWithAnyArgs().SendAsync(default!, default!, default);
    }

    [Fact]
    public async Task Reauthorization_that_graph_refuses_falls_back_to_a_renewal()
    {
        _graph.ReauthorizeAsync("sub-1", Arg.Any<CancellationToken>()).ThrowsAsync(new GraphRequestException("bad", 400, "InvalidRequest"));
        var current = new GraphSubscription { Id = "sub-1", Resource = "/users", ChangeType = "updated", NotificationUrl = NotificationUrl, ExpirationDateTime = _clock.GetUtcNow().AddHours(1) };
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([current]);
        _graph.RenewAsync("sub-1", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>()).Returns(current);

        await Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleReauthorizationRequired, "reauthorizationRequired"), CancellationToken.None);

        await _graph.Received(1).RenewAsync("sub-1", _clock.GetUtcNow().AddMinutes(41_000), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_removed_group_subscription_is_recreated_and_a_group_delta_resync_is_queued()
    {
        ResourceOf("sub-1", "/groups");
        CreatedWithCurrentClientState("u");
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            new GraphSubscription { Id = "u", Resource = "/users", ChangeType = "updated,deleted", NotificationUrl = NotificationUrl, ExpirationDateTime = _clock.GetUtcNow().AddDays(20) },
        ]);
        _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>())
            .Returns(new GraphSubscription { Id = "new-g", Resource = "/groups", ChangeType = "updated,deleted", NotificationUrl = NotificationUrl, ExpirationDateTime = _clock.GetUtcNow().AddDays(28) });
        var message = Lifecycle(MessageKinds.LifecycleSubscriptionRemoved, "subscriptionRemoved");

        await Handler().HandleAsync(message, CancellationToken.None);

        await _graph.Received(1).CreateAsync(Arg.Is<SubscriptionRequest>(r => r.Resource == "/groups"), Arg.Any<CancellationToken>());
        await _graph.DidNotReceiveWithAnyArgs().DeleteAsync(default!, default);
        await _queue.Received(1).SendAsync(QueueNames.GroupChanges, Arg.Is<IReadOnlyList<ChangeMessage>>(m =>
            m.Count == 1 && m[0].Kind == MessageKinds.GroupDeltaResync && m[0].MessageId == $"group.delta-resync:{message.MessageId}"
            && m[0].TenantId == "tenant-1" && m[0].CorrelationId == "corr-1"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Missed_notifications_on_groups_queue_a_delta_resync()
    {
        ResourceOf("sub-1", "/groups");

        await Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleMissed, "missed"), CancellationToken.None);

        await _queue.Received(1).SendAsync(QueueNames.GroupChanges,
            Arg.Is<IReadOnlyList<ChangeMessage>>(m => m.Single().Kind == MessageKinds.GroupDeltaResync), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Missed_notifications_on_users_queue_nothing_because_the_full_sync_repairs_users()
    {
        ResourceOf("sub-1", "/users");

        await Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleMissed, "missed"), CancellationToken.None);

        await _queue.DidNotReceiveWithAnyArgs().SendAsync(default!, default!, default);
    }

    [Fact]
    public async Task Missed_notifications_of_an_unknown_subscription_still_catch_up_on_groups()
    {
        ResourceOf("sub-1", null);
        GraphHasFreshSubscriptions();

        await Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleMissed, "missed"), CancellationToken.None);

        await _queue.Received(1).SendAsync(QueueNames.GroupChanges, Arg.Any<IReadOnlyList<ChangeMessage>>(), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Graph_throttling_becomes_a_transient_failure_with_its_retry_after()
    {
        _graph.ReauthorizeAsync("sub-1", Arg.Any<CancellationToken>())
            .ThrowsAsync(new GraphUnavailableException("throttled", retryAfter: TimeSpan.FromSeconds(30)));

        var failure = await Assert.ThrowsAsync<TransientFailureException>(() =>
            Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleReauthorizationRequired, "reauthorizationRequired"), CancellationToken.None));

        Assert.Equal(TimeSpan.FromSeconds(30), failure.RetryAfter);
    }

    [Fact]
    public async Task Recreating_several_removed_subscriptions_that_all_fail_is_retried_later()
    {
        ResourceOf("sub-1", "/groups");
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>()).ThrowsAsync(new GraphUnavailableException("down"));

        await Assert.ThrowsAsync<TransientFailureException>(() =>
            Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleSubscriptionRemoved, "subscriptionRemoved"), CancellationToken.None));
    }

    [Fact]
    public async Task Missing_permissions_dead_letter_the_message()
    {
        _graph.ReauthorizeAsync("sub-1", Arg.Any<CancellationToken>())
            .ThrowsAsync(new GraphRequestException("denied", 403, "Authorization_RequestDenied"));

        await Assert.ThrowsAsync<PermanentFailureException>(() =>
            Handler().HandleAsync(Lifecycle(MessageKinds.LifecycleReauthorizationRequired, "reauthorizationRequired"), CancellationToken.None));
    }

    [Fact]
    public async Task An_unknown_kind_is_dead_lettered()
    {
        await Assert.ThrowsAsync<PermanentFailureException>(() =>
            Handler().HandleAsync(Lifecycle("lifecycle.somethingNew", "somethingNew"), CancellationToken.None));
    }
}
