using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Stores;
using EntraSnow.Flows.Subscriptions;
using Microsoft.Extensions.Logging.Abstractions;
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

    private readonly IGraphSubscriptions _graph = Substitute.For<IGraphSubscriptions>();
    private readonly ICheckpointStore _checkpoints = Substitute.For<ICheckpointStore>();
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero));
    private readonly SubscriptionOptions _options = new()
    {
        NotificationUrl = NotificationUrl,
        LifecycleNotificationUrl = LifecycleUrl,
        ClientState = ClientState,
    };

    internal SubscriptionUpkeep Upkeep => new(_graph, _checkpoints, Options.Create(_options), _clock, NullLogger<SubscriptionUpkeep>.Instance);

    private GraphSubscription Existing(string resource, TimeSpan expiresIn, string? id = null, string url = NotificationUrl) => new()
    {
        Id = id ?? Guid.NewGuid().ToString(),
        Resource = resource,
        ChangeType = "updated,deleted",
        NotificationUrl = url,
        LifecycleNotificationUrl = LifecycleUrl,
        ExpirationDateTime = _clock.GetUtcNow() + expiresIn,
    };

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
}
