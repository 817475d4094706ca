using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Groups;

/// <summary>
/// A full run's comparison of a chunk of groups, read in full from Graph's delta pages, with their sys_user_group records
/// and sys_user_grmember rows: one group query and the chunk's membership rows in large pages, with only the fields the
/// mirror writes and each member's object id dot-walked through its user. A group whose record and rows already hold
/// what <see cref="GroupMembershipMirror"/> would write is decided here: no per-group read, no write. Every other group
/// goes to the mirror, which reads the truth again, so a wrong "differs" costs calls but never a wrong write.
/// </summary>
internal sealed class GroupChunkComparison(IServiceNowTable serviceNow, IOptions<ProvisioningOptions> options, ILogger<GroupChunkComparison> logger)
{
    private readonly ObjectIdFieldCheck _objectIdField = new(serviceNow, options);

    /// <summary>
    /// The groups of the chunk whose record and memberships need no write, with their sys_user_group. Groups nested in a
    /// group are not compared: they are never sys_user_grmember rows.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> UnchangedAsync(IReadOnlyCollection<GroupChange> changes, CancellationToken cancellationToken)
    {
        var unchanged = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        // Without the object id field on both tables every group goes to the mirror, which says what to install.
        if (changes.Count == 0 || await _objectIdField.ProblemAsync(GroupMembershipMirror.GroupTable, cancellationToken) is not null ||
            await _objectIdField.ProblemAsync(ProvisionUserHandler.UserTable, cancellationToken) is not null)
        {
            return unchanged;
        }

        Dictionary<string, ServiceNowRecord> records;
        Dictionary<string, List<string>> rows;
        try
        {
            records = await ReadGroupsAsync(changes, cancellationToken);
            rows = await ReadMembershipsAsync(records.Values, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && FailureTranslation.Translate(ex) is PermanentFailureException refused)
        {
            // One group an ACL hides must not hold back the chunk: each goes to the mirror, which splits off the one refused.
            logger.LogWarning("A chunk of {Count} groups could not be compared ({Reason}); each is written on its own", changes.Count, refused.Message);
            return unchanged;
        }

        foreach (var change in changes)
        {
            if (records.GetValueOrDefault(change.Group.Id) is { } record && FieldsHold(change, record) &&
                MembersHold(change, rows.GetValueOrDefault(record.SysId) ?? []))
            {
                unchanged[change.Group.Id] = record.SysId;
            }
        }

        return unchanged;
    }

    /// <summary>Each group's record (the oldest, as the mirror's upsert keeps current) by object id.</summary>
    private async Task<Dictionary<string, ServiceNowRecord>> ReadGroupsAsync(IReadOnlyCollection<GroupChange> changes, CancellationToken cancellationToken)
    {
        var field = options.Value.ObjectIdField;
        var records = new Dictionary<string, ServiceNowRecord>(StringComparer.OrdinalIgnoreCase);
        var query = EncodedQuery.Where(field, "IN", string.Join(",", changes.Select(c => c.Group.Id))).OrderBy("sys_created_on");
        await foreach (var record in serviceNow.QueryAsync(GroupMembershipMirror.GroupTable, query, ["sys_id", field, "name", "description", "email", "active"], cancellationToken))
        {
            if (record[field] is { Length: > 0 } id)
            {
                records.TryAdd(id, record);
            }
        }

        return records;
    }

    /// <summary>The member object ids of each group's rows, by the group's sys_id; a row whose user carries none counts as an empty id.</summary>
    private async Task<Dictionary<string, List<string>>> ReadMembershipsAsync(IEnumerable<ServiceNowRecord> groups, CancellationToken cancellationToken)
    {
        var memberObjectId = $"user.{options.Value.ObjectIdField}";
        var rows = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var sysIds = groups.Select(g => g.SysId).Distinct(StringComparer.Ordinal).ToList();
        if (sysIds.Count == 0)
        {
            return rows;
        }

        var query = EncodedQuery.Where("group", "IN", string.Join(",", sysIds));
        await foreach (var row in serviceNow.QueryAsync(GroupMembershipMirror.MemberTable, query, ["sys_id", "group", memberObjectId], cancellationToken))
        {
            if (row["group"] is { Length: > 0 } group)
            {
                if (!rows.TryGetValue(group, out var members))
                {
                    rows[group] = members = [];
                }

                members.Add(row[memberObjectId] ?? string.Empty);
            }
        }

        return rows;
    }

    /// <summary>Whether the record holds what a full reading writes (<see cref="GroupMembershipMirror.FieldsOf"/>).</summary>
    private bool FieldsHold(GroupChange change, ServiceNowRecord record) =>
        RecordChanges.Between(record, GroupMembershipMirror.FieldsOf(change.Group, full: true, options.Value.ObjectIdField), options.Value.ObjectIdField).Count == 0;

    /// <summary>
    /// Whether the rows are exactly the group's users: one row each, none for anyone else. A member without a row may
    /// have no sys_user yet: the mirror decides (and follows up).
    /// </summary>
    private static bool MembersHold(GroupChange change, List<string> rowMembers)
    {
        if (rowMembers.Count != change.Added.Count)
        {
            return false;
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        return rowMembers.All(id => id.Length > 0 && change.Added.Contains(id) && seen.Add(id));
    }
}
