using System.ComponentModel.DataAnnotations;

namespace EntraSnow.Flows.Groups;

/// <summary>What a membership change in a sensitive group sets off.</summary>
public static class SensitiveGroupPolicies
{
    /// <summary>A change record for audit, like any group.</summary>
    public const string Record = "record";

    /// <summary>A <c>normal</c> change waiting in Authorize; nothing is done in Entra.</summary>
    public const string Approve = "approve";

    /// <summary>
    /// The member is removed in Entra at once and a <c>normal</c> change waits in Authorize; ServiceNow's approval
    /// (a signed callback) puts them back, a rejection leaves them out (<see cref="ChangeDecisions"/>).
    /// </summary>
    public const string RemoveUntilApproved = "remove-until-approved";

    public static readonly IReadOnlyList<string> All = [Record, Approve, RemoveUntilApproved];

    /// <summary>Whether changes under <paramref name="policy"/> wait for approval in Authorize.</summary>
    public static bool AsksApproval(string policy) => policy is Approve or RemoveUntilApproved;
}

/// <summary>A group whose membership changes need more than an audit record.</summary>
public sealed class SensitiveGroup
{
    /// <summary>The Entra object id of the group (a GUID).</summary>
    public string GroupId { get; set; } = string.Empty;

    /// <summary>One of <see cref="SensitiveGroupPolicies"/>.</summary>
    public string Policy { get; set; } = SensitiveGroupPolicies.Approve;
}

/// <summary>Settings under <c>GroupChanges</c>: the change records written for membership changes. Validated at start-up.</summary>
public sealed class GroupChangeOptions
{
    public const string Section = "GroupChanges";

    /// <summary>Write a change_request for every member added to or removed from a group in scope.</summary>
    public bool RecordChanges { get; set; } = true;

    /// <summary>The change type of an ordinary membership change (sensitive groups under <c>approve</c> get <c>normal</c>).</summary>
    [RegularExpression("^(standard|normal|emergency)$", ErrorMessage = "GroupChanges:ChangeType must be standard, normal or emergency.")]
    public string ChangeType { get; set; } = "standard";

    /// <summary>The change_request category.</summary>
    public string Category { get; set; } = "Other";

    /// <summary>The sys_user_group (by name) the records are assigned to; empty leaves them unassigned. Must exist.</summary>
    public string? AssignmentGroup { get; set; }

    /// <summary>
    /// Whether the first reading of every group (an empty ledger, from scratch) records each existing membership as a
    /// change. Off: that reading only sets the baseline later changes are measured against.
    /// </summary>
    public bool RecordInitialMemberships { get; set; }

    /// <summary>
    /// Above this many changes to one group in one run (a group created with 5,000 members), one summary record lists
    /// the members instead of one record each.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxRecordsPerGroupPerRun { get; set; } = 100;

    /// <summary>
    /// Name who made each change from the directory audit log (AuditLog.Read.All, optional: without it, or when the log
    /// has no matching entry yet, a record says "actor not read"). One read per group per run, never one per member.
    /// </summary>
    public bool ReadActors { get; set; } = true;

    /// <summary>How far back from the run the audit log is searched for the change's entry (a delta may follow its change by hours).</summary>
    [TimeSpanRange("00:01:00", "30.00:00:00")]
    public TimeSpan ActorLookback { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// Graph often publishes a change's audit entry minutes after the change: a record written before it says "actor not
    /// read" and the group's audit log is read again this long after, and after each look that still finds nothing (1 second to 1 day).
    /// </summary>
    public TimeSpan ActorFollowUpDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many times the audit log is read again for records that do not name their actor yet (0 to 100); 0 never reads it again.</summary>
    public int ActorFollowUpAttempts { get; set; } = 6;

    public List<SensitiveGroup> SensitiveGroups { get; set; } = [];

    /// <summary>
    /// Make every role-assignable group (<c>isAssignableToRole</c>: its members can be given directory roles) sensitive,
    /// under <see cref="RoleAssignablePolicy"/>, without listing it. A group listed in <see cref="SensitiveGroups"/> keeps its own policy.
    /// </summary>
    public bool TreatRoleAssignableAsSensitive { get; set; }

    /// <summary>The policy of role-assignable groups when <see cref="TreatRoleAssignableAsSensitive"/> is on; one of <see cref="SensitiveGroupPolicies"/>.</summary>
    public string RoleAssignablePolicy { get; set; } = SensitiveGroupPolicies.Approve;

    /// <summary>The policy of a group, <see cref="SensitiveGroupPolicies.Record"/> for groups not listed.</summary>
    public string PolicyOf(string groupId) =>
        SensitiveGroups.FirstOrDefault(g => string.Equals(g.GroupId, groupId, StringComparison.OrdinalIgnoreCase))?.Policy.ToLowerInvariant()
        ?? SensitiveGroupPolicies.Record;
}
