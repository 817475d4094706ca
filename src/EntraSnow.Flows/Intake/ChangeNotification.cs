using System.Text.Json;
using System.Text.Json.Serialization;

namespace EntraSnow.Flows.Intake;

/// <summary>
/// One item of a Graph change or lifecycle notification collection, as Graph documents it. Unknown properties are
/// ignored: real traffic adds some.
/// </summary>
public sealed class ChangeNotification
{
    /// <summary>The notification's own id, when Graph sends one: the same id is the same notification.</summary>
    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("subscriptionId")]
    public string? SubscriptionId { get; set; }

    [JsonPropertyName("subscriptionExpirationDateTime")]
    public DateTimeOffset? SubscriptionExpirationDateTime { get; set; }

    [JsonPropertyName("changeType")]
    public string? ChangeType { get; set; }

    [JsonPropertyName("clientState")]
    public string? ClientState { get; set; }

    [JsonPropertyName("resource")]
    public string? Resource { get; set; }

    [JsonPropertyName("resourceData")]
    public NotificationResourceData? ResourceData { get; set; }

    [JsonPropertyName("tenantId")]
    public string? TenantId { get; set; }

    /// <summary>Lifecycle notifications in the wild carry this in place of <see cref="TenantId"/>.</summary>
    [JsonPropertyName("organizationId")]
    public string? OrganizationId { get; set; }

    /// <summary>Set on lifecycle notifications: reauthorizationRequired, subscriptionRemoved, missed.</summary>
    [JsonPropertyName("lifecycleEvent")]
    public string? LifecycleEvent { get; set; }
}

public sealed class NotificationResourceData
{
    [JsonPropertyName("@odata.type")]
    public string? ODataType { get; set; }

    [JsonPropertyName("@odata.id")]
    public string? ODataId { get; set; }

    [JsonPropertyName("id")]
    public string? Id { get; set; }

    [JsonPropertyName("organizationId")]
    public string? OrganizationId { get; set; }

    [JsonPropertyName("eventTime")]
    public DateTimeOffset? EventTime { get; set; }

    [JsonPropertyName("sequenceNumber")]
    public long? SequenceNumber { get; set; }
}

/// <summary>The body Graph posts: <c>{"value": [ ... ]}</c>.</summary>
public sealed class ChangeNotificationCollection
{
    [JsonPropertyName("value")]
    public List<ChangeNotification>? Value { get; set; }
}

[JsonSerializable(typeof(ChangeNotificationCollection))]
[JsonSerializable(typeof(ChangeNotification))]
[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true, NumberHandling = JsonNumberHandling.AllowReadingFromString)]
public sealed partial class NotificationJsonContext : JsonSerializerContext;

/// <summary>Parses notification payloads; every malformed shape becomes a <see cref="NotificationFormatException"/> with a reason a caller can read.</summary>
public static class NotificationParser
{
    public static IReadOnlyList<ChangeNotification> ParseCollection(ReadOnlySpan<byte> utf8Json)
    {
        ChangeNotificationCollection? collection;
        try
        {
            collection = JsonSerializer.Deserialize(utf8Json, NotificationJsonContext.Default.ChangeNotificationCollection);
        }
        catch (JsonException ex)
        {
            throw new NotificationFormatException($"The body is not valid JSON: {ex.Message}", ex);
        }

        if (collection?.Value is null)
        {
            throw new NotificationFormatException("The body has no 'value' array of notifications.");
        }

        return collection.Value;
    }

    public static ChangeNotification ParseItem(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            return JsonSerializer.Deserialize(utf8Json, NotificationJsonContext.Default.ChangeNotification)
                ?? throw new NotificationFormatException("The event data is JSON null, not a notification.");
        }
        catch (JsonException ex)
        {
            throw new NotificationFormatException($"The event data is not a notification: {ex.Message}", ex);
        }
    }
}

/// <summary>A notification payload that cannot be read. Callers answer 400.</summary>
public sealed class NotificationFormatException(string message, Exception? inner = null) : Exception(message, inner);
