namespace EntraSnow.Flows.Provisioning;

/// <summary>Non-secret facts the full sync and follow-ups put on provisioning messages.</summary>
public static class ProvisioningMessageProperties
{
    /// <summary>"true": when the full sync read ServiceNow, no sys_user had this object id, so the lookup can be skipped.</summary>
    public const string AbsentInServiceNow = "servicenow.absent";

    /// <summary>The sys_id of the existing sys_user the full sync found for this user to adopt (no record had the object id).</summary>
    public const string AdoptSysId = "servicenow.adopt";

    /// <summary>
    /// The sys_id of the user's manager's sys_user as the full sync found it (already carrying the manager's object id,
    /// or about to be adopted by it): the report references it at once, even while the manager's own message is still
    /// being handled beside it, instead of writing without a manager and patching it in a follow-up.
    /// </summary>
    public const string ManagerSysId = "servicenow.manager";

    /// <summary>The manager's object id <see cref="ManagerSysId"/> belongs to: it holds only while Entra still names that manager.</summary>
    public const string ManagerObjectId = "servicenow.manager.objectId";

    /// <summary>Why the full sync decided to adopt, or that it must not (<see cref="AdoptionConflict"/>).</summary>
    public const string AdoptionReason = "servicenow.adopt.reason";

    /// <summary>"true": the full sync found the user's existing records ambiguous or taken; nothing is written.</summary>
    public const string AdoptionConflict = "servicenow.conflict";

    /// <summary>
    /// On a <c>user.sync</c>: the user as the run's users delta page said it, with when it was read (JSON, see
    /// <see cref="FullSync.PageSnapshot"/>): the handler writes it instead of reading the user from Graph.
    /// </summary>
    public const string PageSnapshot = "sync.user";

    /// <summary>The full sync run that queued the message.</summary>
    public const string SyncRun = "sync.run";

    /// <summary>The users delta page a <c>user.sync-page</c> message reads (0 is the first).</summary>
    public const string SyncPage = "sync.page";

    /// <summary>How many times this user's write has already waited for a late reference.</summary>
    public const string FollowUp = "followup";

    /// <summary>How many times a full sync's groups run has waited for the run's users.</summary>
    public const string SyncWaits = "sync.waits";

    /// <summary>
    /// On a step of a full groups run (<c>group.delta-resync</c> queued by the step before): the message that started the
    /// run, whose saved progress the step goes on from.
    /// </summary>
    public const string GroupRunOf = "groups.run";

    /// <summary>"true" on a group resync: read groups delta from scratch and reconcile memberships in full.</summary>
    public const string FromScratch = "fromScratch";

    /// <summary>Checkpoint key written before a sys_user is first created, so a skipped lookup can never create twice.</summary>
    public static string CreationMarkerKey(string objectId) => $"sys_user:{objectId}";
}
