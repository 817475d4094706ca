namespace EntraSnow.Sandbox.Graph;

/// <summary>One POST the emulator made to a subscriber: a change notification, a lifecycle notification or a validation request.</summary>
public sealed record NotificationDelivery(
    string SubscriptionId,
    string Url,
    string Kind,
    string Resource,
    string ChangeType,
    int StatusCode,
    DateTimeOffset At);
