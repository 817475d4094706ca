using EntraSnow.Connectors.Graph;
using EntraSnow.Graph.Tests.Support;
using EntraSnow.Sandbox.Graph;

namespace EntraSnow.Graph.Tests.Connector;

public sealed class SubscriptionClientTests
{
    private const string ClientState = "a-client-state-nobody-should-see";

    private static SubscriptionRequest Request(WebhookReceiver receiver, string resource = "/users", int minutes = 41_000) => new()
    {
        Resource = resource,
        NotificationUrl = receiver.NotificationUrl,
        LifecycleNotificationUrl = receiver.LifecycleUrl,
        ClientState = ClientState,
        ExpirationDateTime = DateTimeOffset.UtcNow.AddMinutes(minutes),
    };

    [Fact]
    public async Task Creating_a_subscription_validates_both_endpoints_first()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();

        var subscription = await graph.Subscriptions.CreateAsync(Request(receiver));

        Assert.Equal(2, receiver.ValidationRequests);
        Assert.Equal("/users", subscription.Resource);
        Assert.Equal(receiver.NotificationUrl, subscription.NotificationUrl);
        Assert.Equal(subscription.Id, Assert.Single(await graph.Subscriptions.ListAsync()).Id);
    }

    [Fact]
    public async Task An_endpoint_that_does_not_echo_the_token_gets_no_subscription()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.EchoValidationToken = false;

        var failure = await Assert.ThrowsAsync<GraphRequestException>(() => graph.Subscriptions.CreateAsync(Request(receiver)));

        Assert.Equal(400, failure.StatusCode);
        Assert.Equal("ValidationError", failure.ErrorCode);
        Assert.DoesNotContain(ClientState, failure.ToString(), StringComparison.Ordinal);
        Assert.Empty(await graph.Subscriptions.ListAsync());
    }

    [Fact]
    public async Task Creating_a_duplicate_returns_the_existing_subscription()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var first = await graph.Subscriptions.CreateAsync(Request(receiver));

        var second = await graph.Subscriptions.CreateAsync(Request(receiver));

        Assert.Equal(first.Id, second.Id);
        Assert.Single(await graph.Subscriptions.ListAsync());
    }

    [Fact]
    public async Task An_expiration_beyond_41760_minutes_is_refused()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();

        var failure = await Assert.ThrowsAsync<GraphRequestException>(() => graph.Subscriptions.CreateAsync(Request(receiver, minutes: 41_800)));

        Assert.Equal(400, failure.StatusCode);
    }

    [Fact]
    public async Task Renewing_moves_the_expiration_and_validates_again()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var created = await graph.Subscriptions.CreateAsync(Request(receiver, minutes: 60));
        var newExpiration = DateTimeOffset.UtcNow.AddDays(20);

        var renewed = await graph.Subscriptions.RenewAsync(created.Id, newExpiration);

        Assert.Equal(newExpiration.UtcDateTime, renewed.ExpirationDateTime.UtcDateTime, TimeSpan.FromSeconds(1));
        Assert.Equal(4, receiver.ValidationRequests);
    }

    [Fact]
    public async Task Reauthorizing_and_deleting_twice_are_fine()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var created = await graph.Subscriptions.CreateAsync(Request(receiver));

        await graph.Subscriptions.ReauthorizeAsync(created.Id);
        await graph.Subscriptions.DeleteAsync(created.Id);
        await graph.Subscriptions.DeleteAsync(created.Id);

        Assert.Empty(await graph.Subscriptions.ListAsync());
        var failure = await Assert.ThrowsAsync<GraphRequestException>(() => graph.Subscriptions.ReauthorizeAsync(created.Id));
        Assert.Equal(404, failure.StatusCode);
    }

    [Fact]
    public async Task Event_grid_subscriptions_are_accepted_without_a_handshake()
    {
        await using var graph = await ConnectorHarness.StartAsync();
        const string eventGrid = "EventGrid:?azuresubscriptionid=s&resourcegroup=rg&partnertopic=pt&location=westeurope";

        var subscription = await graph.Subscriptions.CreateAsync(new SubscriptionRequest
        {
            Resource = "/groups",
            NotificationUrl = eventGrid,
            LifecycleNotificationUrl = eventGrid,
            ClientState = ClientState,
            ExpirationDateTime = DateTimeOffset.UtcNow.AddDays(1),
        });

        Assert.Equal(eventGrid, subscription.NotificationUrl);
        Assert.DoesNotContain(graph.Emulator.Deliveries, d => d.Kind == "validation");
    }
}
