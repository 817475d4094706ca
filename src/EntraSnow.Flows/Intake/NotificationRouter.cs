using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using EntraSnow.Flows.Messaging;

namespace EntraSnow.Flows.Intake;

/// <summary>Where one accepted notification goes, or why it goes nowhere.</summary>
public readonly record struct RoutedNotification(string? Queue, ChangeMessage? Message, string? DropReason);

/// <summary>
/// Turns a notification into a queue message: users to user-changes, groups to group-changes, lifecycle events to
/// subscription-lifecycle. The message id is derived from the notification itself, so Graph's retries of the same
/// delivery (and the same change arriving by webhook and Event Grid) carry the same dedupe key.
/// </summary>
public static class NotificationRouter
{
    public static RoutedNotification Route(ChangeNotification item, string correlationId, DateTimeOffset receivedAt)
    {
        var tenant = item.TenantId ?? item.OrganizationId ?? item.ResourceData?.OrganizationId ?? string.Empty;

        if (!string.IsNullOrEmpty(item.LifecycleEvent))
        {
            return RouteLifecycle(item, tenant, correlationId, receivedAt);
        }

        var objectType = ObjectTypeOf(item);
        var subject = SubjectOf(item);
        if (objectType is null)
        {
            return Drop($"unknown resource type '{item.ResourceData?.ODataType ?? item.Resource ?? "(none)"}'");
        }

        if (string.IsNullOrEmpty(subject) || !IsObjectId(subject))
        {
            return Drop("the notification names no object id");
        }

        var deleted = string.Equals(item.ChangeType, "deleted", StringComparison.OrdinalIgnoreCase);
        if (!deleted && !string.Equals(item.ChangeType, "updated", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(item.ChangeType, "created", StringComparison.OrdinalIgnoreCase))
        {
            return Drop($"unknown changeType '{item.ChangeType}'");
        }

        var (queue, kind) = (objectType, deleted) switch
        {
            (ObjectType.User, false) => (QueueNames.UserChanges, MessageKinds.UserUpdated),
            (ObjectType.User, true) => (QueueNames.UserChanges, MessageKinds.UserDeleted),
            (ObjectType.Group, false) => (QueueNames.GroupChanges, MessageKinds.GroupUpdated),
            _ => (QueueNames.GroupChanges, MessageKinds.GroupDeleted),
        };

        var changedAt = item.ResourceData?.EventTime ?? receivedAt;
        var message = new ChangeMessage
        {
            MessageId = ChangeKey(item, subject),
            SessionKey = subject,
            Kind = kind,
            TenantId = tenant,
            SubjectId = subject,
            ChangedAt = changedAt,
            CorrelationId = correlationId,
            Properties = Props(("subscriptionId", item.SubscriptionId), ("changeType", item.ChangeType?.ToLowerInvariant())),
        };
        return new RoutedNotification(queue, message, null);
    }

    private static RoutedNotification RouteLifecycle(ChangeNotification item, string tenant, string correlationId, DateTimeOffset receivedAt)
    {
        var kind = item.LifecycleEvent switch
        {
            var e when string.Equals(e, "reauthorizationRequired", StringComparison.OrdinalIgnoreCase) => MessageKinds.LifecycleReauthorizationRequired,
            var e when string.Equals(e, "subscriptionRemoved", StringComparison.OrdinalIgnoreCase) => MessageKinds.LifecycleSubscriptionRemoved,
            var e when string.Equals(e, "missed", StringComparison.OrdinalIgnoreCase) => MessageKinds.LifecycleMissed,
            _ => null,
        };
        if (kind is null)
        {
            return Drop($"unknown lifecycle event '{item.LifecycleEvent}'");
        }

        if (string.IsNullOrEmpty(item.SubscriptionId))
        {
            return Drop("the lifecycle notification names no subscription");
        }

        var message = new ChangeMessage
        {
            MessageId = DedupeKey(item.SubscriptionId, item.LifecycleEvent, item.SubscriptionExpirationDateTime?.UtcTicks.ToString(CultureInfo.InvariantCulture)),
            SessionKey = item.SubscriptionId,
            Kind = kind,
            TenantId = tenant,
            SubjectId = item.SubscriptionId,
            ChangedAt = receivedAt,
            CorrelationId = correlationId,
            Properties = Props(("subscriptionId", item.SubscriptionId), ("lifecycleEvent", item.LifecycleEvent),
                ("subscriptionExpirationDateTime", item.SubscriptionExpirationDateTime?.ToString("O", CultureInfo.InvariantCulture))),
        };
        return new RoutedNotification(QueueNames.SubscriptionLifecycle, message, null);
    }

    private enum ObjectType
    {
        User,
        Group,
    }

    private static ObjectType? ObjectTypeOf(ChangeNotification item)
    {
        var odataType = item.ResourceData?.ODataType;
        if (odataType is not null)
        {
            if (odataType.Equals("#Microsoft.Graph.User", StringComparison.OrdinalIgnoreCase))
            {
                return ObjectType.User;
            }

            if (odataType.Equals("#Microsoft.Graph.Group", StringComparison.OrdinalIgnoreCase))
            {
                return ObjectType.Group;
            }

            return null;
        }

        var resource = item.Resource ?? string.Empty;
        if (resource.StartsWith("Users/", StringComparison.OrdinalIgnoreCase))
        {
            return ObjectType.User;
        }

        return resource.StartsWith("Groups/", StringComparison.OrdinalIgnoreCase) ? ObjectType.Group : null;
    }

    private static string? SubjectOf(ChangeNotification item)
    {
        if (!string.IsNullOrEmpty(item.ResourceData?.Id))
        {
            return item.ResourceData!.Id;
        }

        var resource = item.Resource;
        var slash = resource?.LastIndexOf('/') ?? -1;
        return slash >= 0 ? resource![(slash + 1)..] : null;
    }

    /// <summary>Entra object ids are GUIDs; anything else would be a malformed or hostile notification.</summary>
    private static bool IsObjectId(string value) => Guid.TryParse(value, out _);

    /// <summary>
    /// Only what proves two deliveries are one notification: its sequenceNumber (the same in the webhook and the Event
    /// Grid copy) or its id. Without either, the key is new every time: losing a change is worse than reading the user
    /// twice, and the consumer coalesces repeats. (An eventTime is no proof: two changes can share one.)
    /// </summary>
    private static string ChangeKey(ChangeNotification item, string subject)
    {
        if (item.ResourceData?.SequenceNumber is { } sequence)
        {
            return DedupeKey(item.SubscriptionId, item.ChangeType, subject, sequence.ToString(CultureInfo.InvariantCulture));
        }

        return !string.IsNullOrEmpty(item.Id)
            ? DedupeKey(item.SubscriptionId, "id", item.Id)
            : DedupeKey(item.SubscriptionId, item.ChangeType, subject, "unproven", Guid.NewGuid().ToString("N"));
    }

    private static string DedupeKey(params string?[] parts)
    {
        var joined = string.Join('|', parts.Select(p => p ?? string.Empty));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)).AsSpan(0, 16));
    }

    private static Dictionary<string, string> Props(params (string Key, string? Value)[] pairs)
    {
        var props = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs)
        {
            if (!string.IsNullOrEmpty(value))
            {
                props[key] = value;
            }
        }

        return props;
    }

    private static RoutedNotification Drop(string reason) => new(null, null, reason);
}
