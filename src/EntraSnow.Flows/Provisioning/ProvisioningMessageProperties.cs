namespace EntraSnow.Flows.Provisioning;

/// <summary>Non-secret facts the full sync and follow-ups put on provisioning messages.</summary>
public static class ProvisioningMessageProperties
{
    /// <summary>"true": when the full sync read ServiceNow, no sys_user had this object id, so the lookup can be skipped.</summary>
    public const string AbsentInServiceNow = "servicenow.absent";

    /// <summary>The sys_id of the existing sys_user the full sync found for this user to adopt (no record had the object id).</summary>
    public const string AdoptSysId = "servicenow.adopt";

    /// <summary>Why the full sync decided to adopt, or that it must not (<see cref="AdoptionConflict"/>).</summary>
    public const string AdoptionReason = "servicenow.adopt.reason";

    /// <summary>"true": the full sync found the user's existing records ambiguous or taken; nothing is written.</summary>
    public const string AdoptionConflict = "servicenow.conflict";

    /// <summary>The full sync run that queued the message.</summary>
    public const string SyncRun = "sync.run";

    /// <summary>How many times this user's write has already waited for a late reference.</summary>
    public const string FollowUp = "followup";

    /// <summary>How many times a full sync's groups run has waited for the run's users.</summary>
    public const string SyncWaits = "sync.waits";

    /// <summary>"true" on a group resync: read groups delta from scratch and reconcile memberships in full.</summary>
    public const string FromScratch = "fromScratch";

    /// <summary>Checkpoint key written before a sys_user is first created, so a skipped lookup can never create twice.</summary>
    public static string CreationMarkerKey(string objectId) => $"sys_user:{objectId}";
}
