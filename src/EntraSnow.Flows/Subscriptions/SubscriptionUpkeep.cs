using System.Security.Cryptography;
using System.Text;
using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Subscriptions;

/// <summary>What one upkeep pass did, per resource.</summary>
internal sealed record UpkeepResult(
    IReadOnlyList<string> Created,
    IReadOnlyList<string> Renewed,
    IReadOnlyList<string> Fresh,
    IReadOnlyList<string> DuplicatesDeleted,
    IReadOnlyList<string> Rotated);

/// <summary>
/// Keeps one fresh subscription per configured resource: creates what is missing, renews what expires within the margin,
/// and replaces any subscription not created with the current <c>Graph:ClientState</c> (Graph cannot change a
/// subscription's clientState, so rotating the secret means recreating). Which secret a subscription carries is known from
/// a fingerprint recorded when it was created, never from the secret itself.
/// Safe on several instances at once: Graph's 409 for a duplicate returns the existing subscription, and should two
/// instances still both create one, the next pass keeps one (current secret first, then longest-lived) and deletes the rest.
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

    /// <summary>Beside <see cref="ResourceKey"/>: the fingerprint of the clientState the subscription was created with.</summary>
    public static string ClientStateKey(string subscriptionId) => $"graph-subscription:{subscriptionId}:client-state";

    /// <summary>
    /// HMAC-SHA256 of the clientState keyed with the subscription id, first 128 bits in hex: enough to tell secrets apart,
    /// useless for recovering one, and different per subscription so equal fingerprints do not reveal a shared secret.
    /// </summary>
    public static string ClientStateFingerprint(string subscriptionId, string clientState) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(subscriptionId), Encoding.UTF8.GetBytes(clientState)).AsSpan(0, 16));

    public static bool SameResource(string a, string b) => string.Equals(a.Trim('/'), b.Trim('/'), StringComparison.OrdinalIgnoreCase);

    public async Task<UpkeepResult> RunAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var notificationUrl = settings.EffectiveNotificationUrl;
        var existing = await subscriptions.ListAsync(cancellationToken);
        var listed = existing.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var created = new List<string>();
        var renewed = new List<string>();
        var fresh = new List<string>();
        var duplicates = new List<string>();
        var rotated = new List<string>();
        List<Exception>? failures = null;

        foreach (var resource in settings.SubscribedResources)
        {
            try
            {
                var ours = new List<(GraphSubscription Subscription, bool CurrentSecret)>();
                foreach (var subscription in existing.Where(s => SameResource(s.Resource, resource)
                    && string.Equals(s.NotificationUrl, notificationUrl, StringComparison.OrdinalIgnoreCase)))
                {
                    ours.Add((subscription, await HasCurrentClientStateAsync(subscription.Id, cancellationToken)));
                }

                // A subscription on the current secret wins over a longer-lived one on the old secret, so two instances
                // rotating at once cannot delete the replacement and keep the subscription being replaced.
                ours = [.. ours
                    .OrderByDescending(s => s.CurrentSecret)
                    .ThenByDescending(s => s.Subscription.ExpirationDateTime)
                    .ThenBy(s => s.Subscription.Id, StringComparer.Ordinal)];
                foreach (var (duplicate, _) in ours.Skip(1))
                {
                    logger.LogWarning("Deleting duplicate subscription {SubscriptionId} for {Resource}", duplicate.Id, resource);
                    await DeleteAsync(duplicate.Id, cancellationToken);
                    duplicates.Add(duplicate.Id);
                }

                if (ours.Count == 0)
                {
                    await CreateAsync(resource, listed, cancellationToken);
                    created.Add(resource);
                    continue;
                }

                var (current, currentSecret) = ours[0];
                if (!currentSecret)
                {
                    await RotateAsync(current, resource, listed, cancellationToken);
                    rotated.Add(resource);
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
                    SubscriptionTelemetry.Expires(resource, current.ExpirationDateTime);
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

        logger.LogInformation("Subscription upkeep: created {Created}, renewed {Renewed}, rotated {Rotated}, fresh {Fresh}, duplicates deleted {Duplicates}",
            created.Count, renewed.Count, rotated.Count, fresh.Count, duplicates.Count);
        if (failures is { Count: > 0 })
        {
            throw failures.Count == 1 ? failures[0] : new AggregateException("Subscription upkeep failed for some resources.", failures);
        }

        return new UpkeepResult(created, renewed, fresh, duplicates, rotated);
    }

    /// <summary>
    /// Replaces a subscription that carries an old (or unknown) clientState. The replacement is created first and the old
    /// one deleted only once that succeeded, so notifications never stop; intake accepts the previous secret meanwhile.
    /// A failed create throws and leaves the old subscription as it was, for the next run to try again.
    /// </summary>
    private async Task RotateAsync(GraphSubscription old, string resource, HashSet<string> listed, CancellationToken cancellationToken)
    {
        var replacement = await CreateAsync(resource, listed, cancellationToken);
        if (replacement.Id == old.Id || listed.Contains(replacement.Id))
        {
            // Graph documents a 409 for a second subscription with the same resource and changeType, and the connector then
            // hands back the existing one: no overlap is possible, so the only way to the new secret is delete, then create.
            // Changes in the moment between are repaired by the scheduled delta reconciliation, as after subscriptionRemoved.
            logger.LogWarning("Graph refused a second subscription for {Resource}; replacing {SubscriptionId} by deleting it first", resource, old.Id);
            await DeleteAsync(old.Id, cancellationToken);
            replacement = await CreateAsync(resource, listed, cancellationToken);
        }
        else
        {
            await DeleteAsync(old.Id, cancellationToken);
        }

        logger.LogInformation("Rotated the client state of {Resource}: subscription {OldSubscriptionId} replaced by {SubscriptionId}",
            resource, old.Id, replacement.Id);
    }

    private async Task<bool> HasCurrentClientStateAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        var recorded = await checkpoints.GetAsync(ClientStateKey(subscriptionId), cancellationToken);
        if (string.IsNullOrEmpty(recorded))
        {
            // Created before fingerprints were recorded, or by hand: its secret is unknown, so it is replaced.
            return false;
        }

        var expected = ClientStateFingerprint(subscriptionId, CurrentClientState());
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(recorded), Encoding.ASCII.GetBytes(expected));
    }

    private async Task DeleteAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        await subscriptions.DeleteAsync(subscriptionId, cancellationToken);
        // The resource key stays: a late lifecycle event about this id can still be mapped to its resource.
        await checkpoints.DeleteAsync(ClientStateKey(subscriptionId), cancellationToken);
    }

    /// <summary>Renews; a subscription that vanished meanwhile (404) is created again. Returns false when it had to be created.</summary>
    public async Task<bool> RenewAsync(GraphSubscription subscription, CancellationToken cancellationToken)
    {
        try
        {
            var renewed = await subscriptions.RenewAsync(subscription.Id, NewExpiration(), cancellationToken);
            SubscriptionTelemetry.Expires(subscription.Resource, renewed.ExpirationDateTime);
            logger.LogInformation("Renewed subscription {SubscriptionId} for {Resource} until {Expiration:o}",
                renewed.Id, subscription.Resource, renewed.ExpirationDateTime);
            return true;
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 404)
        {
            logger.LogWarning("Subscription {SubscriptionId} for {Resource} is gone; creating a new one", subscription.Id, subscription.Resource);
            await CreateAsync(subscription.Resource, new HashSet<string>(StringComparer.Ordinal) { subscription.Id }, cancellationToken);
            return false;
        }
    }

    public DateTimeOffset NewExpiration() => clock.GetUtcNow().AddMinutes(options.Value.ExpirationMinutes);

    private string CurrentClientState() =>
        options.Value.ClientState is { Length: > 0 } clientState ? clientState : throw new InvalidOperationException("Graph:ClientState is not configured.");

    /// <summary>
    /// Creates and records the resource and the clientState fingerprint. When Graph answers 409 the connector returns the
    /// existing subscription; if that one was already <paramref name="listed"/>, its secret is not ours to vouch for, so no
    /// fingerprint is recorded for it.
    /// </summary>
    private async Task<GraphSubscription> CreateAsync(string resource, HashSet<string> listed, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var clientState = CurrentClientState();
        var subscription = await subscriptions.CreateAsync(new SubscriptionRequest
        {
            Resource = resource,
            ChangeType = settings.ChangeType,
            NotificationUrl = settings.EffectiveNotificationUrl,
            LifecycleNotificationUrl = settings.EffectiveLifecycleNotificationUrl,
            ClientState = clientState,
            ExpirationDateTime = NewExpiration(),
        }, cancellationToken);
        await checkpoints.SetAsync(ResourceKey(subscription.Id), resource, cancellationToken);
        if (!listed.Contains(subscription.Id))
        {
            await checkpoints.SetAsync(ClientStateKey(subscription.Id), ClientStateFingerprint(subscription.Id, clientState), cancellationToken);
        }

        SubscriptionTelemetry.Expires(resource, subscription.ExpirationDateTime);
        logger.LogInformation("Subscription {SubscriptionId} now covers {Resource} until {Expiration:o}",
            subscription.Id, resource, subscription.ExpirationDateTime);
        return subscription;
    }
}
