using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;
using EntraSnow.Flows.Messaging;
using Microsoft.Extensions.Options;

namespace EntraSnow.Flows.Provisioning;

internal enum UserWriteOutcome
{
    Created,
    Updated,
    Unchanged,
    Adopted,
    Conflict,
}

/// <param name="SysId">The record written (or, for a conflict, the first record in conflict).</param>
/// <param name="Reason">Why it was adopted, or what is in conflict.</param>
internal sealed record UserWriteResult(UserWriteOutcome Outcome, string? SysId, IReadOnlyList<string> ChangedFields, string? Reason = null);

/// <summary>
/// Writes a user's sys_user: the record carrying their object id when there is one (only the fields that differ), else
/// the existing record adoption matches (stamped with the object id), else a new record. What the full sync already
/// found out (no record, a record to adopt, a conflict) is taken from the message the first time, saving the lookups.
/// </summary>
internal sealed class SysUserWriter(IServiceNowTable serviceNow, IOptions<ProvisioningOptions> options)
{
    private const string UserTable = ProvisionUserHandler.UserTable;
    private readonly UserAdoption _adoption = new(options.Value);

    /// <param name="fields">Every field to write, the object id and matching fields included.</param>
    /// <param name="firstAttempt">No earlier attempt may have written this user, so what the full sync found still holds.</param>
    public async Task<UserWriteResult> WriteAsync(DirectoryUser user, Dictionary<string, string?> fields, ChangeMessage message, bool firstAttempt, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (firstAttempt && _adoption.Enabled && message.Property(ProvisioningMessageProperties.AdoptionConflict) == "true")
        {
            return new UserWriteResult(UserWriteOutcome.Conflict, message.Property(ProvisioningMessageProperties.AdoptSysId), [],
                message.Property(ProvisioningMessageProperties.AdoptionReason));
        }

        if (firstAttempt && _adoption.Enabled && message.Property(ProvisioningMessageProperties.AdoptSysId) is { Length: > 0 } adopt)
        {
            return await AdoptAsync(adopt, fields, message.Property(ProvisioningMessageProperties.AdoptionReason), cancellationToken);
        }

        if (firstAttempt && message.Property(ProvisioningMessageProperties.AbsentInServiceNow) == "true")
        {
            return await CreateAsync(fields, cancellationToken);
        }

        if (!_adoption.Enabled)
        {
            var result = await serviceNow.UpsertAsync(UserTable, settings.EffectiveMatchingField, fields[settings.EffectiveMatchingField]!, fields, cancellationToken);
            var outcome = result.Outcome switch
            {
                UpsertOutcome.Created => UserWriteOutcome.Created,
                UpsertOutcome.Updated => UserWriteOutcome.Updated,
                _ => UserWriteOutcome.Unchanged,
            };
            return new UserWriteResult(outcome, result.SysId, result.ChangedFields);
        }

        var idField = settings.ObjectIdField;
        // Oldest first, so that if duplicates already exist the same record is always the one kept current.
        var existing = await serviceNow.FindAsync(UserTable, EncodedQuery.Where(idField, user.Id).OrderBy("sys_created_on"),
            [.. fields.Keys.Append("sys_id").Distinct(StringComparer.Ordinal)], cancellationToken);
        if (existing is not null)
        {
            if (!string.Equals(existing[idField], user.Id, StringComparison.OrdinalIgnoreCase))
            {
                // ServiceNow silently ignores query conditions on fields it does not know: refuse rather than overwrite a stranger.
                throw new ServiceNowRequestException($"ServiceNow ignored the match on {UserTable}.{idField}; is the field name right?", 400, null);
            }

            var changes = RecordChanges.Between(existing, fields, idField);
            if (changes.Count == 0)
            {
                return new UserWriteResult(UserWriteOutcome.Unchanged, existing.SysId, []);
            }

            await serviceNow.UpdateAsync(UserTable, existing.SysId, changes, cancellationToken);
            return new UserWriteResult(UserWriteOutcome.Updated, existing.SysId, [.. changes.Keys]);
        }

        var values = _adoption.MatchValues(user);
        var decision = AdoptionDecision.None;
        if (values.Count > 0)
        {
            var candidates = new List<ServiceNowRecord>();
            await foreach (var record in serviceNow.QueryAsync(UserTable, UserAdoption.CandidateQuery(values), _adoption.CandidateFields, cancellationToken))
            {
                candidates.Add(record);
            }

            decision = _adoption.Decide(user.Id, values, candidates);
        }

        return decision.Verdict switch
        {
            AdoptionVerdict.Conflict => new UserWriteResult(UserWriteOutcome.Conflict, decision.SysId, [], decision.Reason),
            AdoptionVerdict.Adopt => await AdoptAsync(decision.SysId!, fields, decision.Reason, cancellationToken),
            _ => await CreateAsync(fields, cancellationToken),
        };
    }

    private async Task<UserWriteResult> CreateAsync(Dictionary<string, string?> fields, CancellationToken cancellationToken)
    {
        var created = await serviceNow.CreateAsync(UserTable, fields, cancellationToken);
        return new UserWriteResult(UserWriteOutcome.Created, created.SysId, [.. fields.Keys]);
    }

    /// <summary>
    /// One PATCH: the object id and every mapped field. The record's current values are not read first, which keeps
    /// adopting an instance at one call per user.
    /// </summary>
    private async Task<UserWriteResult> AdoptAsync(string sysId, Dictionary<string, string?> fields, string? reason, CancellationToken cancellationToken)
    {
        await serviceNow.UpdateAsync(UserTable, sysId, fields, cancellationToken);
        return new UserWriteResult(UserWriteOutcome.Adopted, sysId, [.. fields.Keys], reason ?? "adopted an existing sys_user");
    }
}
