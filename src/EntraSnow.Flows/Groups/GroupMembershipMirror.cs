using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Provisioning;
using EntraSnow.Flows.ProvisioningLog;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>What one group's write did, for the provisioning log.</summary>
internal sealed record GroupOutcome(ProvisioningAction Action, IReadOnlyList<string> Changed, string? Reason, string? SysId);

/// <summary>
/// Mirrors one group into ServiceNow: upserts sys_user_group, adds and removes sys_user_grmember rows, and deactivates
/// deleted or out-of-scope groups (never deleting them).
/// </summary>
internal sealed class GroupMembershipMirror(IServiceNowTable serviceNow, IOptions<ProvisioningOptions> options)
{
    internal const string GroupTable = "sys_user_group";
    internal const string MemberTable = "sys_user_grmember";

    private readonly GroupAdoption _adoption = new(options.Value);
    private readonly AdoptingWriter _writer = new(serviceNow, GroupTable, options.Value.ObjectIdField);
    private readonly ObjectIdFieldCheck _objectIdField = new(serviceNow, options);

    /// <summary>Marks the groups of a run that share a name, so that none of them adopts the record they all match.</summary>
    public void MarkSharedMatches(IEnumerable<GroupChange> changes) => _adoption.MarkShared(changes);

    public async Task<GroupOutcome> MirrorAsync(GroupChange change, bool full, SysUserIndex index, FollowUps followUp, CancellationToken cancellationToken)
    {
        await _objectIdField.EnsureAsync(GroupTable, cancellationToken);
        var settings = options.Value;
        var group = change.Group;

        var fields = FieldsOf(group, full, settings.ObjectIdField);
        // A group with no record carrying its object id adopts the existing group of the same name, if exactly one.
        var result = _adoption.Enabled
            ? await _writer.WriteAsync(group.Id, fields, _adoption.MatchValues(group), _adoption.CandidateFields, change.SharedMatch, cancellationToken)
            : SysUserWriter.ToWriteResult(await serviceNow.UpsertAsync(GroupTable, settings.ObjectIdField, group.Id, fields, cancellationToken));
        if (result.Outcome == RecordWriteOutcome.Conflict)
        {
            return new GroupOutcome(ProvisioningAction.Conflict, [], result.Reason, result.SysId);
        }

        var sysId = result.SysId!;

        var desired = new HashSet<string>(StringComparer.Ordinal);
        var pending = 0;
        foreach (var memberId in change.Added)
        {
            if (await index.FindAsync(memberId, cancellationToken) is { } userSysId)
            {
                desired.Add(userSysId);
            }
            else
            {
                pending++;
                followUp.Add(memberId, group.Id);
            }
        }

        var (added, removed) = full
            ? await ReconcileAsync(sysId, readExisting: result.Outcome != RecordWriteOutcome.Created, desired, cancellationToken)
            : await ApplyDeltaAsync(sysId, desired, change.Removed, index, cancellationToken);

        var changed = result.ChangedFields.ToList();
        if (added + removed > 0)
        {
            changed.Add("members");
        }

        var action = result.Outcome switch
        {
            RecordWriteOutcome.Created => ProvisioningAction.Created,
            RecordWriteOutcome.Adopted => ProvisioningAction.Adopted,
            _ when changed.Count > 0 => ProvisioningAction.Updated,
            _ => ProvisioningAction.Unchanged,
        };
        var members = added + removed + pending == 0
            ? null
            : $"{added} members added, {removed} removed, {pending} waiting for their users to be provisioned";
        var reason = action == ProvisioningAction.Adopted ? string.Join("; ", new[] { result.Reason, members }.OfType<string>()) : members;
        return new GroupOutcome(action, changed, reason, sysId);
    }

    /// <summary>
    /// The sys_user_group fields written for the group. An incremental delta item carries only what changed (often just
    /// members@delta): absent properties are left alone; a full reading writes them all.
    /// </summary>
    internal static Dictionary<string, string?> FieldsOf(DirectoryGroup group, bool full, string objectIdField)
    {
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            [objectIdField] = group.Id,
            ["active"] = "true",
        };
        if (group.DisplayName is not null || full)
        {
            fields["name"] = group.DisplayName ?? group.Id;
        }

        if (group.Description is not null || full)
        {
            fields["description"] = group.Description ?? string.Empty;
        }

        if (group.Mail is not null || full)
        {
            fields["email"] = group.Mail ?? string.Empty;
        }

        return fields;
    }

    /// <summary>A deleted or out-of-scope group: inactive, with no members. Never deleted.</summary>
    public async Task<GroupOutcome> DeactivateAsync(string groupId, string reason, CancellationToken cancellationToken)
    {
        await _objectIdField.EnsureAsync(GroupTable, cancellationToken);
        var record = await serviceNow.FindAsync(GroupTable, EncodedQuery.Where(options.Value.ObjectIdField, groupId), ["sys_id", "active"], cancellationToken);
        if (record is null)
        {
            return new GroupOutcome(ProvisioningAction.Skipped, [], $"{reason}; not in ServiceNow", null);
        }

        var removed = 0;
        var rows = new List<string>();
        await foreach (var row in serviceNow.QueryAsync(MemberTable, EncodedQuery.Where("group", record.SysId), ["sys_id"], cancellationToken))
        {
            rows.Add(row.SysId);
        }

        foreach (var row in rows)
        {
            await serviceNow.DeleteAsync(MemberTable, row, cancellationToken);
            removed++;
        }

        var changed = new List<string>();
        if (!string.Equals(record["active"], "false", StringComparison.OrdinalIgnoreCase))
        {
            await serviceNow.UpdateAsync(GroupTable, record.SysId, new Dictionary<string, string?> { ["active"] = "false" }, cancellationToken);
            changed.Add("active");
        }

        if (removed > 0)
        {
            changed.Add("members");
        }

        var action = changed.Count > 0 ? ProvisioningAction.Deactivated : ProvisioningAction.Unchanged;
        return new GroupOutcome(action, changed, removed > 0 ? $"{reason}; {removed} members removed" : reason, record.SysId);
    }

    /// <summary>A full read: the group's rows become exactly the desired users (duplicates dropped).</summary>
    private async Task<(int Added, int Removed)> ReconcileAsync(string groupSysId, bool readExisting, HashSet<string> desired, CancellationToken cancellationToken)
    {
        int added = 0, removed = 0;
        var existing = new Dictionary<string, string>(StringComparer.Ordinal);
        if (readExisting)
        {
            await foreach (var row in serviceNow.QueryAsync(MemberTable, EncodedQuery.Where("group", groupSysId), ["sys_id", "user"], cancellationToken))
            {
                if (row["user"] is { Length: > 0 } user && !existing.TryAdd(user, row.SysId))
                {
                    // A duplicate membership row (created by hand, or by an older tool): one is enough.
                    await serviceNow.DeleteAsync(MemberTable, row.SysId, cancellationToken);
                }
            }
        }

        foreach (var userSysId in desired.Where(u => !existing.ContainsKey(u)))
        {
            await serviceNow.CreateAsync(MemberTable, Membership(userSysId, groupSysId), cancellationToken);
            added++;
        }

        foreach (var (_, rowSysId) in existing.Where(e => !desired.Contains(e.Key)))
        {
            await serviceNow.DeleteAsync(MemberTable, rowSysId, cancellationToken);
            removed++;
        }

        return (added, removed);
    }

    /// <summary>An incremental read: only the members the delta names are added or removed.</summary>
    private async Task<(int Added, int Removed)> ApplyDeltaAsync(string groupSysId, HashSet<string> desired, IEnumerable<string> removedIds, SysUserIndex index, CancellationToken cancellationToken)
    {
        int added = 0, removed = 0;
        foreach (var userSysId in desired)
        {
            if (await FindMembershipAsync(userSysId, groupSysId, cancellationToken) is null)
            {
                await serviceNow.CreateAsync(MemberTable, Membership(userSysId, groupSysId), cancellationToken);
                added++;
            }
        }

        foreach (var memberId in removedIds)
        {
            if (await index.FindAsync(memberId, cancellationToken) is { } userSysId &&
                await FindMembershipAsync(userSysId, groupSysId, cancellationToken) is { } row)
            {
                await serviceNow.DeleteAsync(MemberTable, row.SysId, cancellationToken);
                removed++;
            }
        }

        return (added, removed);
    }

    private Task<ServiceNowRecord?> FindMembershipAsync(string userSysId, string groupSysId, CancellationToken cancellationToken) =>
        serviceNow.FindAsync(MemberTable, EncodedQuery.Where("user", userSysId).And("group", groupSysId), ["sys_id"], cancellationToken);

    private static Dictionary<string, string?> Membership(string userSysId, string groupSysId) =>
        new(StringComparer.Ordinal) { ["user"] = userSysId, ["group"] = groupSysId };
}
