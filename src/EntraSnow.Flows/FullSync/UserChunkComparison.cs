using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Provisioning;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.FullSync;

/// <summary>What the full sync's comparison concluded about one user.</summary>
internal enum ChunkVerdict
{
    /// <summary>No sys_user carries the object id: the user's handler creates, adopts or skips it.</summary>
    Absent,

    /// <summary>The record differs, or only the handler can tell (scope groups, a deleted user, a late reference).</summary>
    Differs,

    /// <summary>The record already holds what the handler would write: logged, no message.</summary>
    Unchanged,

    /// <summary>Out of scope with no record: nothing to deactivate, logged, no message.</summary>
    Skipped,
}

/// <param name="SysId">The user's sys_user, when one carries the object id.</param>
/// <param name="Reason">For a user decided here, what the provisioning log says (the handler's own words).</param>
internal sealed record ChunkDecision(string UserId, ChunkVerdict Verdict, string? SysId = null, string? Reason = null);

/// <summary>
/// The full sync's comparison of a chunk of users as Graph's delta pages carry them (attributes and manager) with their
/// sys_user records, read in one query of only the fields the sync writes. A user whose record already holds what the
/// handler would write is decided here: no message, no Graph GET, no sys_user read of its own. Every other user goes to
/// the handler, which reads the truth again, so a wrong "differs" costs calls but never a wrong write.
/// </summary>
public sealed class UserChunkComparison
{
    private readonly IServiceNowTable _serviceNow;
    private readonly UserAttributeMapper _mapper;
    private readonly ProvisionedUserIds _provisioned;
    private readonly UserScope _scope;
    private readonly ObjectIdFieldCheck _objectIdField;
    private readonly ProvisioningOptions _settings;
    private readonly List<string> _readFields;

    /// <summary>sys_user reference fields joined on the object id (the manager): field to the dot-walked object id read with it.</summary>
    private readonly List<(string Field, string Source, string DotWalk)> _userReferences;

    internal UserChunkComparison(IServiceNowTable serviceNow, UserAttributeMapper mapper, ProvisionedUserIds provisioned, UserScope scope,
        IOptions<ProvisioningOptions> options)
    {
        _serviceNow = serviceNow;
        _mapper = mapper;
        _provisioned = provisioned;
        _scope = scope;
        _objectIdField = new ObjectIdFieldCheck(serviceNow, options);
        _settings = options.Value;
        var mappings = _settings.EffectiveMappings();
        _userReferences = mappings
            .Where(m => m.Value.IsReference && m.Value.ReferenceTable == ProvisionUserHandler.UserTable && m.Value.ReferenceField == _settings.ObjectIdField)
            .Select(m => (m.Key, m.Value.Source!, $"{m.Key}.{_settings.ObjectIdField}"))
            .ToList();
        _readFields = ["sys_id", _settings.ObjectIdField, _settings.EffectiveMatchingField, "active", "locked_out",
            .. mappings.Keys, .. _userReferences.Select(r => r.DotWalk)];
        _readFields = [.. _readFields.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Whether comparing can help: without the object id field every user goes to the handler, which refuses to write and
    /// says what to install (a query on a field the instance lacks would match every record).
    /// </summary>
    internal async Task<bool> CanCompareAsync(CancellationToken cancellationToken) =>
        await _objectIdField.ProblemAsync(ProvisionUserHandler.UserTable, cancellationToken) is null;

    /// <summary>One decision per user, in order. One sys_user query for the chunk; references come from caches.</summary>
    internal async Task<IReadOnlyList<ChunkDecision>> CompareAsync(IReadOnlyList<DirectoryUser> users, CancellationToken cancellationToken)
    {
        var records = await ReadRecordsAsync(users, cancellationToken);
        var decisions = new List<ChunkDecision>(users.Count);
        foreach (var user in users)
        {
            var record = records.GetValueOrDefault(user.Id);
            decisions.Add(await DecideAsync(user, record, cancellationToken));
        }

        return decisions;
    }

    private async Task<Dictionary<string, ServiceNowRecord>> ReadRecordsAsync(IReadOnlyList<DirectoryUser> users, CancellationToken cancellationToken)
    {
        var field = _settings.ObjectIdField;
        var records = new Dictionary<string, ServiceNowRecord>(StringComparer.OrdinalIgnoreCase);
        if (users.Count == 0)
        {
            return records;
        }

        // Oldest first, as the handler: if duplicates already exist, the one compared is the one the handler keeps current.
        var query = EncodedQuery.Where(field, "IN", string.Join(",", users.Select(u => u.Id))).OrderBy("sys_created_on");
        await foreach (var record in _serviceNow.QueryAsync(ProvisionUserHandler.UserTable, query, _readFields, cancellationToken))
        {
            if (record[field] is { Length: > 0 } id && records.TryAdd(id, record))
            {
                _provisioned.Remember(id, record.SysId);
            }
        }

        return records;
    }

    private async Task<ChunkDecision> DecideAsync(DirectoryUser user, ServiceNowRecord? record, CancellationToken cancellationToken)
    {
        // Scope groups need Graph per user, and a deleted user is recorded for retention: the handler does both.
        if (user.Removed is not null || _settings.ScopeGroupIds.Count > 0)
        {
            return Undecided(user, record);
        }

        if (await _scope.OutOfScopeReasonAsync(user, cancellationToken) is { } outOfScope)
        {
            return record switch
            {
                null => new ChunkDecision(user.Id, ChunkVerdict.Skipped, null, ProvisionUserHandler.NothingToDeactivate(outOfScope)),
                _ when ProvisionUserHandler.IsDeactivated(record) => new ChunkDecision(user.Id, ChunkVerdict.Unchanged, record.SysId, ProvisionUserHandler.AlreadyInactive(outOfScope)),
                _ => Undecided(user, record),
            };
        }

        var matchingValue = user.Attribute(_settings.MatchingAttribute);
        if (record is null || string.IsNullOrWhiteSpace(matchingValue))
        {
            return Undecided(user, record);
        }

        // The record's manager is the user's manager when it carries the manager's object id: its sys_id is then known
        // without a lookup, and the mapping gives back the same sys_id.
        foreach (var (field, source, dotWalk) in _userReferences)
        {
            if (user.Attribute(source) is { Length: > 0 } objectId && record[field] is { Length: > 0 } sysId &&
                string.Equals(record[dotWalk], objectId, StringComparison.OrdinalIgnoreCase))
            {
                _provisioned.Remember(objectId, sysId);
            }
        }

        MappedUser mapped;
        try
        {
            mapped = await _mapper.MapAsync(user, cancellationToken);
        }
        catch (UnresolvedReferenceException)
        {
            return Undecided(user, record); // The handler fails it with the reason.
        }

        if (mapped.Pending.Count > 0)
        {
            return Undecided(user, record); // A reference still to come: the handler schedules its follow-up.
        }

        var fields = ProvisionUserHandler.FieldsToWrite(user, mapped, _settings, matchingValue);
        return RecordChanges.Between(record, fields, _settings.ObjectIdField).Count == 0
            ? new ChunkDecision(user.Id, ChunkVerdict.Unchanged, record.SysId, mapped.Notes.Count == 0 ? null : string.Join("; ", mapped.Notes))
            : Undecided(user, record);
    }

    private static ChunkDecision Undecided(DirectoryUser user, ServiceNowRecord? record) =>
        record is null ? new ChunkDecision(user.Id, ChunkVerdict.Absent) : new ChunkDecision(user.Id, ChunkVerdict.Differs, record.SysId);
}
