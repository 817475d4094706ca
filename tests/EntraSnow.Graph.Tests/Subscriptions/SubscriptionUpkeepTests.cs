using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Stores;
using EntraSnow.Flows.Subscriptions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace EntraSnow.Graph.Tests.Subscriptions;

public sealed class SubscriptionUpkeepTests
{
    private const string NotificationUrl = "https://func.example/api/graph/notifications";
    private const string LifecycleUrl = "https://func.example/api/graph/lifecycle";
    private const string ClientState = "s3cret-client-state";
    private const string PreviousClientState = "old-client-state-before-rotation";

    private readonly IGraphSubscriptions _graph = Substitute.For<IGraphSubscriptions>();
    private readonly ICheckpointStore _checkpoints = Substitute.For<ICheckpointStore>();
    private readonly Dictionary<string, string> _stored = [];
    private readonly FakeLogger<SubscriptionUpkeep> _logger = new();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly SubscriptionOptions _options = new()
    {
        NotificationUrl = NotificationUrl,
        LifecycleNotificationUrl = LifecycleUrl,
        ClientState = ClientState,
    };

    public SubscriptionUpkeepTests()
    {
        // The substitute keeps what it is given, so a run reads back the fingerprints an earlier step recorded.
        _checkpoints.GetAsync(Arg.Any<string>(), Arg.Any<CancellationToken>())
            .Returns(call => _stored.TryGetValue(call.Arg<string>(), out var value) ? value : null);
        _checkpoints.When(c => c.SetAsync(Arg.Any<string>(), Arg.Any<string>(), Arg.Any<CancellationToken>()))
            .Do(call => _stored[call.ArgAt<string>(0)] = call.ArgAt<string>(1));
        _checkpoints.When(c => c.DeleteAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()))
            .Do(call => _stored.Remove(call.ArgAt<string>(0)));
    }

    internal SubscriptionUpkeep Upkeep => new(_graph, _checkpoints, Options.Create(_options), _clock, _logger);

    /// <summary>A subscription in Graph; by default upkeep made it with the current client state and recorded so.</summary>
    private GraphSubscription Existing(string resource, TimeSpan expiresIn, string? id = null, string url = NotificationUrl, string? createdWith = ClientState)
    {
        var subscription = new GraphSubscription
        {
            Id = id ?? Guid.NewGuid().ToString(),
            Resource = resource,
            ChangeType = "updated,deleted",
            NotificationUrl = url,
            LifecycleNotificationUrl = LifecycleUrl,
            ExpirationDateTime = _clock.GetUtcNow() + expiresIn,
        };
        if (createdWith is not null)
        {
            _stored[SubscriptionUpkeep.ClientStateKey(subscription.Id)] = SubscriptionUpkeep.ClientStateFingerprint(subscription.Id, createdWith);
        }

        return subscription;
    }

    private void GraphCreatesWhatItIsAsked() =>
        _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                var request = call.Arg<SubscriptionRequest>();
                return new GraphSubscription
                {
                    Id = $"new-{request.Resource.Trim('/')}",
                    Resource = request.Resource,
                    ChangeType = request.ChangeType,
                    NotificationUrl = request.NotificationUrl,
                    ExpirationDateTime = request.ExpirationDateTime,
                };
            });

    [Fact]
    public async Task First_run_creates_a_subscription_per_resource_with_the_client_state_and_lifecycle_url()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        GraphCreatesWhatItIsAsked();

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/users", "/groups"], result.Created);
        await _graph.Received(1).CreateAsync(Arg.Is<SubscriptionRequest>(r =>
            r.Resource == "/users" && r.ClientState == ClientState && r.NotificationUrl == NotificationUrl
            && r.LifecycleNotificationUrl == LifecycleUrl && r.ChangeType == "updated,deleted"
            && r.ExpirationDateTime == _clock.GetUtcNow().AddMinutes(41_000)), Arg.Any<CancellationToken>());
        await _checkpoints.Received(1).SetAsync(SubscriptionUpkeep.ResourceKey("new-groups"), "/groups", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Fresh_subscriptions_are_left_alone()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([Existing("users", TimeSpan.FromDays(20)), Existing("/groups", TimeSpan.FromDays(20))]);

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(2, result.Fresh.Count);
        await _graph.DidNotReceiveWithAnyArgs().CreateAsync(default!, default);
        await _graph.DidNotReceiveWithAnyArgs().RenewAsync(default!, default, default);
    }

    [Fact]
    public async Task A_subscription_expiring_within_the_margin_is_renewed_to_the_configured_lifetime()
    {
        var expiring = Existing("/users", TimeSpan.FromHours(30), "sub-users");
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([expiring, Existing("/groups", TimeSpan.FromDays(20))]);
        _graph.RenewAsync("sub-users", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(call => expiring with { ExpirationDateTime = call.Arg<DateTimeOffset>() });

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/users"], result.Renewed);
        await _graph.Received(1).RenewAsync("sub-users", _clock.GetUtcNow().AddMinutes(41_000), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_subscription_that_vanished_before_its_renewal_is_created_again()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([Existing("/users", TimeSpan.FromHours(1), "gone"), Existing("/groups", TimeSpan.FromDays(20))]);
        _graph.RenewAsync("gone", Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new GraphRequestException("not found", 404, "ResourceNotFound"));
        GraphCreatesWhatItIsAsked();

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/users"], result.Created);
    }

    [Fact]
    public async Task Duplicates_left_by_two_instances_are_reduced_to_the_longest_lived_one()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            Existing("/users", TimeSpan.FromDays(20), "short"),
            Existing("/users", TimeSpan.FromDays(25), "long"),
            Existing("/groups", TimeSpan.FromDays(20), "groups"),
        ]);

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["short"], result.DuplicatesDeleted);
        await _graph.Received(1).DeleteAsync("short", Arg.Any<CancellationToken>());
        await _graph.DidNotReceive().DeleteAsync("long", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Subscriptions_of_other_apps_or_endpoints_do_not_count_as_ours()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([Existing("/users", TimeSpan.FromDays(20), url: "https://someone-else.example/hook")]);
        GraphCreatesWhatItIsAsked();

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/users", "/groups"], result.Created);
        await _graph.DidNotReceiveWithAnyArgs().DeleteAsync(default!, default);
    }

    [Fact]
    public async Task One_resource_failing_does_not_stop_the_others_and_the_run_still_reports_failure()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        _graph.CreateAsync(Arg.Is<SubscriptionRequest>(r => r.Resource == "/users"), Arg.Any<CancellationToken>())
            .ThrowsAsync(new GraphUnavailableException("throttled"));
        _graph.CreateAsync(Arg.Is<SubscriptionRequest>(r => r.Resource == "/groups"), Arg.Any<CancellationToken>())
            .Returns(new GraphSubscription { Id = "g", Resource = "/groups", ChangeType = "updated", NotificationUrl = NotificationUrl, ExpirationDateTime = _clock.GetUtcNow().AddDays(28) });

        await Assert.ThrowsAsync<GraphUnavailableException>(() => Upkeep.RunAsync(CancellationToken.None));

        await _graph.Received(1).CreateAsync(Arg.Is<SubscriptionRequest>(r => r.Resource == "/groups"), Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Event_grid_delivery_subscribes_with_the_partner_topic_url()
    {
        _options.Delivery = SubscriptionDelivery.EventGrid;
        _options.EventGrid = new EventGridDeliveryOptions { AzureSubscriptionId = "sub-1", ResourceGroup = "rg-entrasnow", PartnerTopic = "entrasnow-graph", Location = "westeurope" };
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([]);
        GraphCreatesWhatItIsAsked();

        await Upkeep.RunAsync(CancellationToken.None);

        const string expected = "EventGrid:?azuresubscriptionid=sub-1&resourcegroup=rg-entrasnow&partnertopic=entrasnow-graph&location=westeurope";
        await _graph.Received(2).CreateAsync(Arg.Is<SubscriptionRequest>(r => r.NotificationUrl == expected && r.LifecycleNotificationUrl == expected),
            Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task Rotation_creates_the_replacement_before_deleting_the_old_subscription()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            Existing("/users", TimeSpan.FromDays(20), "old-users", createdWith: PreviousClientState),
            Existing("/groups", TimeSpan.FromDays(20), "groups"),
        ]);
        GraphCreatesWhatItIsAsked();

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/users"], result.Rotated);
        Assert.Equal(["/groups"], result.Fresh);
        Received.InOrder(() =>
        {
            _ = _graph.CreateAsync(Arg.Is<SubscriptionRequest>(r => r.Resource == "/users" && r.ClientState == ClientState), Arg.Any<CancellationToken>());
            _ = _graph.DeleteAsync("old-users", Arg.Any<CancellationToken>());
        });
        await _graph.DidNotReceive().DeleteAsync("groups", Arg.Any<CancellationToken>());
        Assert.Equal(SubscriptionUpkeep.ClientStateFingerprint("new-users", ClientState), _stored[SubscriptionUpkeep.ClientStateKey("new-users")]);
        Assert.Equal("/users", _stored[SubscriptionUpkeep.ResourceKey("new-users")]);
        Assert.False(_stored.ContainsKey(SubscriptionUpkeep.ClientStateKey("old-users")));
        Assert.Contains(_logger.Collector.GetSnapshot(), r => r.Message.Contains("old-users", StringComparison.Ordinal)
            && r.Message.Contains("new-users", StringComparison.Ordinal) && r.Message.Contains("/users", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_subscription_with_no_recorded_fingerprint_is_replaced_too()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            Existing("/users", TimeSpan.FromDays(20), "users"),
            Existing("/groups", TimeSpan.FromDays(20), "unknown-groups", createdWith: null),
        ]);
        GraphCreatesWhatItIsAsked();

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/groups"], result.Rotated);
        await _graph.Received(1).CreateAsync(Arg.Is<SubscriptionRequest>(r => r.Resource == "/groups"), Arg.Any<CancellationToken>());
        await _graph.Received(1).DeleteAsync("unknown-groups", Arg.Any<CancellationToken>());
    }

    [Fact]
    public async Task A_matching_fingerprint_causes_no_churn()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([Existing("/users", TimeSpan.FromDays(20)), Existing("/groups", TimeSpan.FromDays(20))]);

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Empty(result.Rotated);
        Assert.Equal(2, result.Fresh.Count);
        await _graph.DidNotReceiveWithAnyArgs().CreateAsync(default!, default);
        await _graph.DidNotReceiveWithAnyArgs().DeleteAsync(default!, default);
        await _checkpoints.DidNotReceiveWithAnyArgs().SetAsync(default!, default!, default);
    }

    [Fact]
    public async Task A_second_run_after_a_rotation_leaves_the_replacement_alone()
    {
        var old = Existing("/users", TimeSpan.FromDays(20), "old-users", createdWith: PreviousClientState);
        var groups = Existing("/groups", TimeSpan.FromDays(20), "groups");
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([old, groups]);
        GraphCreatesWhatItIsAsked();
        await Upkeep.RunAsync(CancellationToken.None);
        _graph.ClearReceivedCalls();
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
            [Existing("/users", TimeSpan.FromMinutes(41_000), "new-users", createdWith: null), groups]);

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/users", "/groups"], result.Fresh);
        await _graph.DidNotReceiveWithAnyArgs().CreateAsync(default!, default);
        await _graph.DidNotReceiveWithAnyArgs().DeleteAsync(default!, default);
    }

    [Fact]
    public async Task A_failed_create_leaves_the_old_subscription_in_place()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            Existing("/users", TimeSpan.FromDays(20), "old-users", createdWith: PreviousClientState),
            Existing("/groups", TimeSpan.FromDays(20), "groups"),
        ]);
        _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>())
            .ThrowsAsync(new GraphRequestException("validation failed", 400, "ValidationError"));

        await Assert.ThrowsAsync<GraphRequestException>(() => Upkeep.RunAsync(CancellationToken.None));

        await _graph.DidNotReceiveWithAnyArgs().DeleteAsync(default!, default);
        Assert.Equal(SubscriptionUpkeep.ClientStateFingerprint("old-users", PreviousClientState), _stored[SubscriptionUpkeep.ClientStateKey("old-users")]);
    }

    [Fact]
    public async Task Duplicate_clean_up_keeps_the_subscription_on_the_current_secret_over_a_longer_lived_old_one()
    {
        // Two instances rotated at once, or one rotated while another still listed the old subscription.
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns(
        [
            Existing("/users", TimeSpan.FromDays(28), "old-long", createdWith: PreviousClientState),
            Existing("/users", TimeSpan.FromDays(27), "rotated"),
            Existing("/groups", TimeSpan.FromDays(20), "groups"),
        ]);

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["old-long"], result.DuplicatesDeleted);
        Assert.Empty(result.Rotated);
        await _graph.DidNotReceive().DeleteAsync("rotated", Arg.Any<CancellationToken>());
        await _graph.DidNotReceiveWithAnyArgs().CreateAsync(default!, default);
    }

    [Fact]
    public async Task When_graph_refuses_a_second_subscription_the_old_one_is_deleted_then_recreated_with_the_new_secret()
    {
        var old = Existing("/users", TimeSpan.FromDays(20), "old-users", createdWith: PreviousClientState);
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([old, Existing("/groups", TimeSpan.FromDays(20), "groups")]);
        // Graph's 409 for the same resource and changeType: the connector hands back the existing subscription, then a real one.
        _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>())
            .Returns(old, old with { Id = "new-users", ExpirationDateTime = _clock.GetUtcNow().AddMinutes(41_000) });

        var result = await Upkeep.RunAsync(CancellationToken.None);

        Assert.Equal(["/users"], result.Rotated);
        Received.InOrder(() =>
        {
            _ = _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>());
            _ = _graph.DeleteAsync("old-users", Arg.Any<CancellationToken>());
            _ = _graph.CreateAsync(Arg.Any<SubscriptionRequest>(), Arg.Any<CancellationToken>());
        });
        Assert.False(_stored.ContainsKey(SubscriptionUpkeep.ClientStateKey("old-users")));
        Assert.Equal(SubscriptionUpkeep.ClientStateFingerprint("new-users", ClientState), _stored[SubscriptionUpkeep.ClientStateKey("new-users")]);
    }

    [Fact]
    public async Task The_client_state_never_reaches_the_checkpoint_store_or_the_logs()
    {
        _graph.ListAsync(Arg.Any<CancellationToken>()).Returns([Existing("/users", TimeSpan.FromDays(20), "old-users", createdWith: PreviousClientState)]);
        GraphCreatesWhatItIsAsked();

        await Upkeep.RunAsync(CancellationToken.None);

        var written = _checkpoints.ReceivedCalls()
            .Where(c => c.GetMethodInfo().Name == nameof(ICheckpointStore.SetAsync))
            .SelectMany(c => new[] { (string)c.GetArguments()[0]!, (string)c.GetArguments()[1]! })
            .ToList();
        Assert.Equal(4, written.Count / 2); // resource and fingerprint, for the rotated users and the created groups
        var logged = _logger.Collector.GetSnapshot()
            .SelectMany(r => new[] { r.Message, r.Exception?.ToString() ?? "" }
                .Concat(r.StructuredState?.Select(p => p.Value ?? "") ?? []))
            .ToList();
        Assert.NotEmpty(logged);
        foreach (var secret in new[] { ClientState, PreviousClientState })
        {
            Assert.DoesNotContain(written, v => v.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(logged, v => v.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_fingerprint_depends_on_the_secret_and_the_subscription()
    {
        var fingerprint = SubscriptionUpkeep.ClientStateFingerprint("sub-1", ClientState);

        Assert.Equal(32, fingerprint.Length);
        Assert.Equal(fingerprint, SubscriptionUpkeep.ClientStateFingerprint("sub-1", ClientState));
        Assert.NotEqual(fingerprint, SubscriptionUpkeep.ClientStateFingerprint("sub-1", PreviousClientState));
        Assert.NotEqual(fingerprint, SubscriptionUpkeep.ClientStateFingerprint("sub-2", ClientState));
    }
}
