namespace EntraSnow.Flows.Messaging;

/// <summary>What a queued message asks for. Kinds are stable strings: they are stored in queues that outlive deployments.</summary>
public static class MessageKinds
{
    public const string UserUpdated = "user.updated";
    public const string UserDeleted = "user.deleted";
    public const string GroupUpdated = "group.updated";
    public const string GroupDeleted = "group.deleted";

    /// <summary>Full sync fan-out: provision this user from current Graph state.</summary>
    public const string UserSync = "user.sync";

    /// <summary>Full sync walk: read the next page of users delta, compare it with sys_user, queue the next page.</summary>
    public const string UserSyncPage = "user.sync-page";

    /// <summary>Full sync fan-out: provision this group and its members.</summary>
    public const string GroupSync = "group.sync";

    /// <summary>Run group delta (from the stored link, or from scratch) and apply what changed.</summary>
    public const string GroupDeltaResync = "group.delta-resync";

    /// <summary>Read a group's directory audit log again for change records written before it named who made the change.</summary>
    public const string GroupActorFollowUp = "group.actor-follow-up";

    public const string LifecycleReauthorizationRequired = "lifecycle.reauthorizationRequired";
    public const string LifecycleSubscriptionRemoved = "lifecycle.subscriptionRemoved";
    public const string LifecycleMissed = "lifecycle.missed";

    public const string RiskDetection = "risk.detection";
    public const string PasswordReset = "servicenow.password-reset";
    public const string AccessRequest = "servicenow.access-request";

    /// <summary>ServiceNow approved or rejected a change EntraSnow opened for a sensitive group (on the access-requests queue).</summary>
    public const string ChangeDecision = "servicenow.change-decision";
}
