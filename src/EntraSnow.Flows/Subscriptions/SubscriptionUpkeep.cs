using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Subscriptions;

/// <summary>What one upkeep pass did, per resource.</summary>
internal sealed record UpkeepResult(IReadOnlyList<string> Created, IReadOnlyList<string> Renewed, IReadOnlyList<string> Fresh, IReadOnlyList<string> DuplicatesDeleted);

/// <summary>
/// Keeps one fresh subscription per configured resource: creates what is missing, renews what expires within the margin.
/// Safe on several instances at once: Graph's 409 for a duplicate returns the existing subscription, and should two
/// instances still both create one, the next pass keeps the longest-lived and deletes the rest.
/// </summary>
internal sealed class SubscriptionUpkeep(
    IGraphSubscriptions subscriptions,
    ICheckpointStore checkpoints,
    IOptions<SubscriptionOptions> options,
    TimeProvider clock,
    ILogger<SubscriptionUpkeep> logger)
{
    /// <summary>Remembers which resource a subscription id was for, so a lifecycle event about a vanished subscription can still be acted on.</summary>
    public static string ResourceKey(string subscriptionId) => $"graph-subscription:{subscriptionId}";

    public static bool SameResource(string a, string b) => string.Equals(a.Trim('/'), b.Trim('/'), StringComparison.OrdinalIgnoreCase);

    public async Task<UpkeepResult> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var notificationUrl = settings.EffectiveNotificationUrl;
        var existing = await subscriptions.ListAsync(cancellationToken);
        var created = new List<string>();
        var renewed = new List<string>();
        var fresh = new List<string>();
        var duplicates = new List<string>();
        List<Exception>? failures = null;

        foreach (var resource in settings.SubscribedResources)
        {
            try
            {
                var ours = existing
                    .Where(s => SameResource(s.Resource, resource) && string.Equals(s.NotificationUrl, notificationUrl, StringComparison.OrdinalIgnoreCase))
                    .OrderByDescending(s => s.ExpirationDateTime)
                    .ThenBy(s => s.Id, StringComparer.Ordinal)
                    .ToList();
                foreach (var duplicate in ours.Skip(1))
                {
                    logger.LogWarning("Deleting duplicate subscription {SubscriptionId} for {Resource}", duplicate.Id, resource);
                    await subscriptions.DeleteAsync(duplicate.Id, cancellationToken);
                    duplicates.Add(duplicate.Id);
                }

                var current = ours.FirstOrDefault();
                if (current is null)
                {
                    await CreateAsync(resource, cancellationToken);
                    created.Add(resource);
                }
                else if (current.ExpirationDateTime - clock.GetUtcNow() <= settings.RenewalMargin)
                {
                    if (await RenewAsync(current, cancellationToken))
                    {
                        renewed.Add(resource);
                    }
                    else
                    {
                        created.Add(resource);
                    }
                }
                else
                {
                    fresh.Add(resource);
                }
            }
            catch (Exception ex) when (ex is GraphUnavailableException or GraphRequestException)
            {
                // One resource failing must not keep the others from being looked after.
                logger.LogError("Subscription upkeep for {Resource} failed: {Reason}", resource, ex.Message);
                (failures ??= []).Add(ex);
            }
        }

        logger.LogInformation("Subscription upkeep: created {Created}, renewed {Renewed}, fresh {Fresh}, duplicates deleted {Duplicates}",
            created.Count, renewed.Count, fresh.Count, duplicates.Count);
        if (failures is { Count: > 0 })
        {
            throw failures.Count == 1 ? failures[0] : new AggregateException("Subscription upkeep failed for some resources.", failures);
        }

        return new UpkeepResult(created, renewed, fresh, duplicates);
    }

    /// <summary>Renews; a subscription that vanished meanwhile (404) is created again. Returns false when it had to be created.</summary>
    public async Task<bool> RenewAsync(GraphSubscription subscription, CancellationToken cancellationToken)
    {
        try
        {
            var renewed = await subscriptions.RenewAsync(subscription.Id, NewExpiration(), cancellationToken);
            logger.LogInformation("Renewed subscription {SubscriptionId} for {Resource} until {Expiration:o}",
                renewed.Id, subscription.Resource, renewed.ExpirationDateTime);
            return true;
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 404)
        {
            logger.LogWarning("Subscription {SubscriptionId} for {Resource} is gone; creating a new one", subscription.Id, subscription.Resource);
            await CreateAsync(subscription.Resource, cancellationToken);
            return false;
        }
    }

    public DateTimeOffset NewExpiration() => clock.GetUtcNow().AddMinutes(options.Value.ExpirationMinutes);

    private async Task CreateAsync(string resource, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var subscription = await subscriptions.CreateAsync(new SubscriptionRequest
        {
            Resource = resource,
            ChangeType = settings.ChangeType,
            NotificationUrl = settings.EffectiveNotificationUrl,
            LifecycleNotificationUrl = settings.EffectiveLifecycleNotificationUrl,
            ClientState = settings.ClientState ?? throw new InvalidOperationException("Graph:ClientState is not configured."),
            ExpirationDateTime = NewExpiration(),
        }, cancellationToken);
        await checkpoints.SetAsync(ResourceKey(subscription.Id), resource, cancellationToken);
        logger.LogInformation("Subscription {SubscriptionId} now covers {Resource} until {Expiration:o}",
            subscription.Id, resource, subscription.ExpirationDateTime);
    }
}
