using EntraSnow.Connectors.Graph;
using EntraSnow.Flows.Groups;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Stores;
using Microsoft.Extensions.Logging;

namespace EntraSnow.Flows.Subscriptions;

/// <summary>
/// Acts on Graph lifecycle notifications (queue <c>subscription-lifecycle</c>):
/// reauthorizationRequired → reauthorize (renew if Graph refuses); subscriptionRemoved → recreate, then catch up
/// on groups through delta; missed → catch up on groups through delta. Users have no per-tenant catch-up message:
/// the scheduled full sync repairs them, which is logged.
/// </summary>
internal sealed class SubscriptionLifecycleHandler(
    IGraphSubscriptions subscriptions,
    SubscriptionUpkeep upkeep,
    IMessageQueue queue,
    ICheckpointStore checkpoints,
    ILogger<SubscriptionLifecycleHandler> logger) : IMessageHandler
{
    public string Queue => QueueNames.SubscriptionLifecycle;

    public async Task HandleAsync(ChangeMessage message, CancellationToken cancellationToken)
    {
        var subscriptionId = message.Property("subscriptionId") ?? message.SubjectId;
        try
        {
            switch (message.Kind)
            {
                case MessageKinds.LifecycleReauthorizationRequired:
                    await ReauthorizeAsync(subscriptionId, cancellationToken);
                    break;
                case MessageKinds.LifecycleSubscriptionRemoved:
                    var removedResource = await checkpoints.GetAsync(SubscriptionUpkeep.ResourceKey(subscriptionId), cancellationToken);
                    var result = await upkeep.RunAsync(cancellationToken);
                    logger.LogWarning("Subscription {SubscriptionId} ({Resource}) was removed by Graph; recreated {Created}",
                        subscriptionId, removedResource ?? "unknown resource", string.Join(", ", result.Created));
                    await CatchUpAsync(message, subscriptionId, removedResource, cancellationToken);
                    break;
                case MessageKinds.LifecycleMissed:
                    var missedResource = await checkpoints.GetAsync(SubscriptionUpkeep.ResourceKey(subscriptionId), cancellationToken);
                    logger.LogWarning("Graph missed notifications for subscription {SubscriptionId} ({Resource})",
                        subscriptionId, missedResource ?? "unknown resource");
                    await CatchUpAsync(message, subscriptionId, missedResource, cancellationToken);
                    break;
                default:
                    throw new PermanentFailureException($"The subscription-lifecycle queue does not handle '{message.Kind}' messages.");
            }
        }
        catch (GraphUnavailableException ex)
        {
            throw new TransientFailureException(ex.Message, ex, ex.RetryAfter);
        }
        catch (GraphRequestException ex) when (ex.StatusCode is 401 or 403)
        {
            throw new PermanentFailureException($"Graph refused the subscription call ({ex.StatusCode} {ex.ErrorCode}): check the app's permissions.", ex);
        }
        catch (GraphRequestException ex)
        {
            throw new TransientFailureException(ex.Message, ex);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is GraphUnavailableException or GraphRequestException))
        {
            // Upkeep failed for more than one resource: the next delivery retries them all.
            throw new TransientFailureException(ex.Message, ex);
        }
    }

    /// <summary>Graph accepts either a reauthorize call or a renewal; a renewal also reauthorizes, so it is the fallback.</summary>
    private async Task ReauthorizeAsync(string subscriptionId, CancellationToken cancellationToken)
    {
        try
        {
            await subscriptions.ReauthorizeAsync(subscriptionId, cancellationToken);
            logger.LogInformation("Reauthorized subscription {SubscriptionId}", subscriptionId);
        }
        catch (GraphRequestException ex) when (ex.StatusCode == 404)
        {
            logger.LogWarning("Subscription {SubscriptionId} to reauthorize is gone; running upkeep to recreate it", subscriptionId);
            await upkeep.RunAsync(cancellationToken);
        }
        catch (GraphRequestException ex) when (ex.StatusCode is not (401 or 403))
        {
            logger.LogWarning("Reauthorizing subscription {SubscriptionId} failed ({Status}); renewing it instead", subscriptionId, ex.StatusCode);
            var subscription = (await subscriptions.ListAsync(cancellationToken)).FirstOrDefault(s => s.Id == subscriptionId);
            if (subscription is null)
            {
                await upkeep.RunAsync(cancellationToken);
                return;
            }

            await upkeep.RenewAsync(subscription, cancellationToken);
        }
    }

    /// <summary>
    /// Group membership is caught up through delta (cheap, from the stored link); an unknown resource is treated as groups,
    /// because a spare delta run costs little and a missed membership change costs access.
    /// </summary>
    private async Task CatchUpAsync(ChangeMessage message, string subscriptionId, string? resource, CancellationToken cancellationToken)
    {
        if (resource is not null && SubscriptionUpkeep.SameResource(resource, "/users"))
        {
            logger.LogInformation("User changes missed through subscription {SubscriptionId} are repaired by the scheduled full sync", subscriptionId);
            return;
        }

        await queue.SendAsync(QueueNames.GroupChanges,
        [
            new ChangeMessage
            {
                // Derived from the lifecycle message: a redelivery queues the same id, which duplicate detection drops.
                MessageId = $"group.delta-resync:{message.MessageId}",
                SessionKey = GroupChangesHandler.DeltaSessionKey,
                Kind = MessageKinds.GroupDeltaResync,
                TenantId = message.TenantId,
                SubjectId = "groups",
                ChangedAt = message.ChangedAt,
                CorrelationId = message.CorrelationId,
                Properties = new Dictionary<string, string>
                {
                    ["subscriptionId"] = subscriptionId,
                    ["reason"] = message.Property("lifecycleEvent") ?? message.Kind,
                },
            },
        ], cancellationToken);
        logger.LogInformation("Queued a group delta resync after {Kind} for subscription {SubscriptionId}", message.Kind, subscriptionId);
    }
}
