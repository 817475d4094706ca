using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Provisioning;

internal enum AdoptionVerdict
{
    /// <summary>No existing record matched: the object is created.</summary>
    NoMatch,

    /// <summary>Exactly one record matched and it carries no other object id: it is stamped with this object's.</summary>
    Adopt,

    /// <summary>Ambiguous or taken: nothing is written.</summary>
    Conflict,

    /// <summary>
    /// The one record that matched is inactive and linked to another object: if Entra no longer has that object, the
    /// rehire policy decides; otherwise it is a conflict.
    /// </summary>
    Reuse,
}

/// <param name="SysId">The record adopted, or the first record in conflict.</param>
/// <param name="LinkedTo">For <see cref="AdoptionVerdict.Reuse"/>: the object id the record carries.</param>
/// <param name="Field">For <see cref="AdoptionVerdict.Reuse"/>: the field that matched, and its value.</param>
internal sealed record AdoptionDecision(AdoptionVerdict Verdict, string? SysId, string Reason, string? LinkedTo = null, string? Field = null, string? Value = null)
{
    public static AdoptionDecision None { get; } = new(AdoptionVerdict.NoMatch, null, "no existing record matched");
}

/// <summary>
/// The rules for joining an Entra object that no record carries the object id of to a record the instance already has
/// (users on user name then e-mail, groups on name). The match fields are tried in order; the first one that matches
/// anything decides. Never two Entra objects onto one record (a record linked to another object id is not adopted),
/// never one object onto two records (a value held by several records adopts none).
/// </summary>
internal static class AdoptionRules
{
    /// <param name="candidates">Records that may match (more are harmless: only those equal on a match field count).</param>
    public static AdoptionDecision Decide(string table, string objectIdField, string objectId, IReadOnlyList<(string Field, string Value)> values, IReadOnlyCollection<ServiceNowRecord> candidates)
    {
        foreach (var (field, value) in values)
        {
            // ServiceNow compares case-insensitively, and so does this.
            var matches = candidates.Where(r => string.Equals(r[field]?.Trim(), value, StringComparison.OrdinalIgnoreCase))
                .DistinctBy(r => r.SysId, StringComparer.Ordinal)
                .ToList();
            if (matches.Count == 0)
            {
                continue;
            }

            if (matches.Count > 1)
            {
                return new AdoptionDecision(AdoptionVerdict.Conflict, matches[0].SysId,
                    $"conflict: {matches.Count} {table} records have {field} '{value}' ({string.Join(", ", matches.Select(m => m.SysId))}); nothing written");
            }

            var record = matches[0];
            if (record[objectIdField] is { Length: > 0 } linked && !string.Equals(linked, objectId, StringComparison.OrdinalIgnoreCase))
            {
                var inactive = string.Equals(record["active"], "false", StringComparison.OrdinalIgnoreCase);
                return new AdoptionDecision(inactive ? AdoptionVerdict.Reuse : AdoptionVerdict.Conflict, record.SysId,
                    $"conflict: the {(inactive ? "inactive " : string.Empty)}{table} with {field} '{value}' ({record.SysId}) is linked to another Entra object ({linked}); nothing written",
                    linked, field, value);
            }

            return new AdoptionDecision(AdoptionVerdict.Adopt, record.SysId, $"adopted: the existing {table} with {field} '{value}' had no Entra object id");
        }

        return AdoptionDecision.None;
    }

    /// <summary>Every record one object could be adopted onto, in one query: <c>user_name=a^ORemail=b</c>.</summary>
    public static EncodedQuery CandidateQuery(IReadOnlyList<(string Field, string Value)> values)
    {
        var query = EncodedQuery.Where(values[0].Field, values[0].Value);
        foreach (var (field, value) in values.Skip(1))
        {
            query = query.Or(field, value);
        }

        return query;
    }

    /// <summary>The candidates of many objects in one query: <c>user_nameINa,b^ORemailINc,d</c>. Values holding a comma cannot be listed.</summary>
    public static EncodedQuery? BatchQuery(IEnumerable<IReadOnlyList<(string Field, string Value)>> objects)
    {
        EncodedQuery? query = null;
        foreach (var group in objects.SelectMany(v => v).Where(v => !v.Value.Contains(',', StringComparison.Ordinal)).GroupBy(v => v.Field, StringComparer.Ordinal))
        {
            var list = string.Join(",", group.Select(v => v.Value).Distinct(StringComparer.OrdinalIgnoreCase));
            query = query is null ? EncodedQuery.Where(group.Key, "IN", list) : query.Or(group.Key, "IN", list);
        }

        return query;
    }

    public static bool CanBatch(IReadOnlyList<(string Field, string Value)> values) =>
        values.All(v => !v.Value.Contains(',', StringComparison.Ordinal));
}
