namespace EntraSnow.Flows.Messaging;

/// <summary>
/// The queues between intake and work. One source of truth: the Functions triggers, the local host's
/// SQLite queues and infra/ (checked by a test) all use these names.
/// </summary>
public static class QueueNames
{
    public const string UserChanges = "user-changes";
    public const string GroupChanges = "group-changes";
    public const string RiskDetections = "risk-detections";
    public const string PasswordResets = "password-resets";
    public const string AccessRequests = "access-requests";
    public const string SubscriptionLifecycle = "subscription-lifecycle";

    public static IReadOnlyList<string> All { get; } =
    [
        UserChanges, GroupChanges, RiskDetections, PasswordResets, AccessRequests, SubscriptionLifecycle,
    ];
}
