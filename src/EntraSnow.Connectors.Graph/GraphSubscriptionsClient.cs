using Microsoft.Extensions.Logging;
using Microsoft.Graph;
using Microsoft.Graph.Models;
using static EntraSnow.Connectors.Graph.GraphModelMapping;

namespace EntraSnow.Connectors.Graph;

/// <summary><see cref="IGraphSubscriptions"/> over the Graph SDK. The client state goes to Graph and nowhere else: not into logs, not into exceptions.</summary>
internal sealed class GraphSubscriptionsClient(GraphServiceClient client, ILogger<GraphSubscriptionsClient> logger) : IGraphSubscriptions
{
    public async Task<IReadOnlyList<GraphSubscription>> ListAsync(CancellationToken cancellationToken = default)
    {
        var subscriptions = new List<GraphSubscription>();
        var page = await GraphErrors.RunAsync("GET subscriptions", () => client.Subscriptions.GetAsync(cancellationToken: cancellationToken), cancellationToken);
        while (page is not null)
        {
            subscriptions.AddRange(page.Value?.Select(ToGraphSubscription) ?? []);
            var next = page.OdataNextLink;
            page = next is null ? null : await GraphErrors.RunAsync("GET subscriptions",
                () => client.Subscriptions.WithUrl(next).GetAsync(cancellationToken: cancellationToken), cancellationToken);
        }

        return subscriptions;
    }

    public async Task<GraphSubscription> CreateAsync(SubscriptionRequest request, CancellationToken cancellationToken = default)
    {
        try
        {
            var created = await GraphErrors.RunAsync("POST subscriptions", () => client.Subscriptions.PostAsync(new Subscription
            {
                Resource = request.Resource,
                ChangeType = request.ChangeType,
                NotificationUrl = request.NotificationUrl,
                LifecycleNotificationUrl = request.LifecycleNotificationUrl,
                ClientState = request.ClientState,
                ExpirationDateTime = request.ExpirationDateTime,
            }, cancellationToken: cancellationToken), cancellationToken);
            var subscription = ToGraphSubscription(created ?? throw new GraphUnavailableException("Graph created a subscription but returned none."));
            logger.LogInformation("Created subscription {SubscriptionId} for {Resource}, expiring {Expiration:o}",
                subscription.Id, subscription.Resource, subscription.ExpirationDateTime);
            return subscription;
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 409)
        {
            // Another instance (or an earlier run) got there first: that subscription is the one we want.
            var existing = (await ListAsync(cancellationToken)).FirstOrDefault(s => Matches(s, request));
            if (existing is null)
            {
                throw;
            }

            logger.LogInformation("Subscription for {Resource} already exists as {SubscriptionId}", request.Resource, existing.Id);
            return existing;
        }
    }

    public async Task<GraphSubscription> RenewAsync(string subscriptionId, DateTimeOffset newExpiration, CancellationToken cancellationToken = default)
    {
        var renewed = await GraphErrors.RunAsync("PATCH subscription", () => client.Subscriptions[subscriptionId].PatchAsync(
            new Subscription { ExpirationDateTime = newExpiration }, cancellationToken: cancellationToken), cancellationToken);
        return ToGraphSubscription(renewed ?? throw new GraphUnavailableException("Graph renewed the subscription but returned none."));
    }

    public Task ReauthorizeAsync(string subscriptionId, CancellationToken cancellationToken = default) =>
        GraphErrors.RunAsync("POST subscription reauthorize",
            () => client.Subscriptions[subscriptionId].Reauthorize.PostAsync(cancellationToken: cancellationToken), cancellationToken);

    public async Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        try
        {
            await GraphErrors.RunAsync("DELETE subscription",
                () => client.Subscriptions[subscriptionId].DeleteAsync(cancellationToken: cancellationToken), cancellationToken);
        }
        catch (GraphRequestException ex) when (ex.IsNotFound())
        {
            logger.LogDebug("Subscription {SubscriptionId} was already gone", subscriptionId);
        }
    }

    /// <summary>Graph may echo the resource with or without its leading slash.</summary>
    public static bool SameResource(string a, string b) =>
        string.Equals(a.Trim('/'), b.Trim('/'), StringComparison.OrdinalIgnoreCase);

    private static bool Matches(GraphSubscription subscription, SubscriptionRequest request) =>
        SameResource(subscription.Resource, request.Resource)
        && string.Equals(subscription.NotificationUrl, request.NotificationUrl, StringComparison.OrdinalIgnoreCase);
}
