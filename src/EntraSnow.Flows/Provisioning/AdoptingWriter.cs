using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Provisioning;

internal enum RecordWriteOutcome
{
    Created,
    Updated,
    Unchanged,
    Adopted,
    Conflict,
}

/// <param name="SysId">The record written (or, for a conflict, the first record in conflict).</param>
/// <param name="Reason">Why it was adopted or created so, or what is in conflict.</param>
/// <param name="AskPerson">A conflict a person must resolve whatever the conflict task setting says (rehire policy Fail).</param>
internal sealed record RecordWriteResult(RecordWriteOutcome Outcome, string? SysId, IReadOnlyList<string> ChangedFields, string? Reason = null, bool AskPerson = false);

/// <summary>
/// Writes the record of one Entra object into a table keyed by the object id field: the record carrying the object id
/// when there is one (only the fields that differ), else the existing record <see cref="AdoptionRules"/> picks (stamped
/// with the object id), else a new record.
/// </summary>
internal sealed class AdoptingWriter(IServiceNowTable serviceNow, string table, string objectIdField)
{
    /// <param name="fields">Every field to write, the object id included.</param>
    /// <param name="matchValues">The object's values for the adoption fields, in order (none: adoption off).</param>
    /// <param name="candidateFields">What to read of each candidate record.</param>
    /// <param name="sharedBy">
    /// Set when other Entra objects of the same run have the same match value: a record they would all adopt goes to none.
    /// </param>
    /// <param name="reuse">Decides a <see cref="AdoptionVerdict.Reuse"/> (users); without it such a record is a conflict.</param>
    public async Task<RecordWriteResult> WriteAsync(string objectId, Dictionary<string, string?> fields, IReadOnlyList<(string Field, string Value)> matchValues,
        IReadOnlyList<string> candidateFields, string? sharedBy, CancellationToken cancellationToken,
        Func<AdoptionDecision, CancellationToken, Task<RecordWriteResult>>? reuse = null)
    {
        // Oldest first, so that if duplicates already exist the same record is always the one kept current.
        var existing = await serviceNow.FindAsync(table, EncodedQuery.Where(objectIdField, objectId).OrderBy("sys_created_on"),
            [.. fields.Keys.Append("sys_id").Distinct(StringComparer.Ordinal)], cancellationToken);
        if (existing is not null)
        {
            if (!string.Equals(existing[objectIdField], objectId, StringComparison.OrdinalIgnoreCase))
            {
                // ServiceNow silently ignores query conditions on fields it does not know: refuse rather than overwrite a stranger.
                throw new ServiceNowRequestException($"ServiceNow ignored the match on {table}.{objectIdField}; is the field name right?", 400, null);
            }

            var changes = RecordChanges.Between(existing, fields, objectIdField);
            ProvisioningTrace.Step("match", $"{table} {existing.SysId} carries the object id ({objectIdField})");
            ProvisioningTrace.Step("write", () => changes.Count == 0
                ? "nothing to change"
                : $"updated {table} {existing.SysId}: {string.Join(", ", changes.Select(c => $"{c.Key} '{existing[c.Key]}' → '{c.Value}'"))}");
            if (changes.Count == 0)
            {
                return new RecordWriteResult(RecordWriteOutcome.Unchanged, existing.SysId, []);
            }

            await serviceNow.UpdateAsync(table, existing.SysId, changes, cancellationToken);
            return new RecordWriteResult(RecordWriteOutcome.Updated, existing.SysId, [.. changes.Keys]);
        }

        var decision = AdoptionDecision.None;
        if (matchValues.Count > 0)
        {
            var candidates = new List<ServiceNowRecord>();
            await foreach (var record in serviceNow.QueryAsync(table, AdoptionRules.CandidateQuery(matchValues), candidateFields, cancellationToken))
            {
                candidates.Add(record);
            }

            decision = AdoptionRules.Decide(table, objectIdField, objectId, matchValues, candidates);
            if (decision.Verdict == AdoptionVerdict.Adopt && sharedBy is not null)
            {
                decision = decision with { Verdict = AdoptionVerdict.Conflict, Reason = $"conflict: {table} {decision.SysId} matches {sharedBy}; nothing written" };
            }
        }

        ProvisioningTrace.Step("match", () => decision.Verdict == AdoptionVerdict.NoMatch
            ? $"no {table} carries the object id ({objectIdField}){(matchValues.Count == 0 ? string.Empty : $" and none has {string.Join(" or ", matchValues.Select(v => $"{v.Field} '{v.Value}'"))}")}"
            : decision.Reason);
        return decision.Verdict switch
        {
            AdoptionVerdict.Reuse when reuse is not null => await reuse(decision, cancellationToken),
            AdoptionVerdict.Conflict or AdoptionVerdict.Reuse => new RecordWriteResult(RecordWriteOutcome.Conflict, decision.SysId, [], decision.Reason),
            AdoptionVerdict.Adopt => await AdoptAsync(decision.SysId!, fields, decision.Reason, cancellationToken),
            _ => await CreateAsync(fields, cancellationToken),
        };
    }

    public async Task<RecordWriteResult> CreateAsync(Dictionary<string, string?> fields, CancellationToken cancellationToken)
    {
        var created = await serviceNow.CreateAsync(table, fields, cancellationToken);
        ProvisioningTrace.Step("write", $"created {table} {created.SysId} with {fields.Count} fields");
        return new RecordWriteResult(RecordWriteOutcome.Created, created.SysId, [.. fields.Keys]);
    }

    /// <summary>
    /// One PATCH: the object id and every mapped field. The record's current values are not read first, which keeps
    /// adopting an instance at one call per object.
    /// </summary>
    public async Task<RecordWriteResult> AdoptAsync(string sysId, Dictionary<string, string?> fields, string? reason, CancellationToken cancellationToken)
    {
        await serviceNow.UpdateAsync(table, sysId, fields, cancellationToken);
        ProvisioningTrace.Step("write", $"adopted {table} {sysId}: stamped with the object id, {fields.Count} fields written");
        return new RecordWriteResult(RecordWriteOutcome.Adopted, sysId, [.. fields.Keys], reason ?? $"adopted an existing {table}");
    }
}
