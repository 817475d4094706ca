namespace EntraSnow.Flows.ProvisioningLog;

/// <summary>What provisioning decided for one object. Stored as lower-case words ("created", "deactivated").</summary>
public enum ProvisioningAction
{
    Created,
    Updated,
    Unchanged,
    Skipped,
    Deactivated,
    Failed,

    /// <summary>An existing record (no object id on it) was matched by user name or e-mail and stamped with the object id.</summary>
    Adopted,

    /// <summary>Nothing written: the existing records are ambiguous or linked to another object (the reason says which).</summary>
    Conflict,
}

/// <summary>The kinds of objects provisioning writes.</summary>
public static class ProvisioningObjectKinds
{
    public const string User = "user";
    public const string Group = "group";
}

/// <summary>One decision. <see cref="ChangedFields"/> holds ServiceNow field names only, never values.</summary>
public sealed record ProvisioningLogEntry
{
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The message's correlation id; for a full sync, the sync run id.</summary>
    public required string CorrelationId { get; init; }

    public required string MessageId { get; init; }

    /// <summary>The Entra object id.</summary>
    public required string SubjectId { get; init; }

    public required string ObjectKind { get; init; }

    public required ProvisioningAction Action { get; init; }

    public IReadOnlyList<string> ChangedFields { get; init; } = [];

    /// <summary>Why: the scope rule that excluded the user, the missing reference, the ServiceNow error…</summary>
    public string? Reason { get; init; }

    /// <summary>The ServiceNow sys_id written, when there was one.</summary>
    public string? TargetSysId { get; init; }

    public static string ActionName(ProvisioningAction action) => action.ToString().ToLowerInvariant();

    public static ProvisioningAction ParseAction(string name) => Enum.Parse<ProvisioningAction>(name, ignoreCase: true);
}
