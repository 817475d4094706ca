using EntraSnow.Connectors.Graph;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Flows.Provisioning;

internal enum AdoptionVerdict
{
    /// <summary>No existing record matched: the user is created.</summary>
    NoMatch,

    /// <summary>Exactly one record matched and it carries no other object id: it is stamped with this user's.</summary>
    Adopt,

    /// <summary>Ambiguous or taken: nothing is written.</summary>
    Conflict,
}

/// <param name="SysId">The record adopted, or the first record in conflict.</param>
internal sealed record AdoptionDecision(AdoptionVerdict Verdict, string? SysId, string Reason)
{
    public static AdoptionDecision None { get; } = new(AdoptionVerdict.NoMatch, null, "no existing sys_user matched");
}

/// <summary>
/// The rules for joining a user who has no sys_user carrying their object id to a record the instance already has.
/// The match fields are tried in order (<c>user_name</c> = UPN, then <c>email</c>); the first one that matches anything
/// decides. Never two Entra users onto one record (a record linked to another object id is not adopted), never one user
/// onto two records (a value held by several records adopts none).
/// </summary>
internal sealed class UserAdoption
{
    private readonly string _objectIdField;
    private readonly List<(string Field, string Source)> _match;

    public UserAdoption(ProvisioningOptions options)
    {
        _objectIdField = options.ObjectIdField;
        var mappings = options.EffectiveMappings();
        // Only when users are joined on their object id: matching on another field (user_name) joins existing records anyway.
        _match = options.EffectiveMatchingField == options.ObjectIdField
            ? options.Adoption.MatchFields.Where(mappings.ContainsKey).Select(f => (f, mappings[f].Source!)).ToList()
            : [];
    }

    public bool Enabled => _match.Count > 0;

    /// <summary>What a decision reads of each candidate record.</summary>
    public IReadOnlyList<string> CandidateFields => ["sys_id", _objectIdField, "active", .. _match.Select(m => m.Field)];

    /// <summary>The user's value for each match field, in order, leaving out empty ones.</summary>
    public IReadOnlyList<(string Field, string Value)> MatchValues(DirectoryUser user) =>
        _match.Select(m => (m.Field, Value: (user.Attribute(m.Source) ?? string.Empty).Trim()))
            .Where(v => v.Value.Length > 0)
            .ToList();

    /// <summary>Every record one user could be adopted onto, in one query: <c>user_name=a^ORemail=b</c>.</summary>
    public static EncodedQuery CandidateQuery(IReadOnlyList<(string Field, string Value)> values)
    {
        var query = EncodedQuery.Where(values[0].Field, values[0].Value);
        foreach (var (field, value) in values.Skip(1))
        {
            query = query.Or(field, value);
        }

        return query;
    }

    /// <summary>The candidates of many users in one query: <c>user_nameINa,b^ORemailINc,d</c>. Values holding a comma cannot be listed.</summary>
    public static EncodedQuery? BatchQuery(IEnumerable<IReadOnlyList<(string Field, string Value)>> users)
    {
        EncodedQuery? query = null;
        foreach (var group in users.SelectMany(v => v).Where(v => !v.Value.Contains(',', StringComparison.Ordinal)).GroupBy(v => v.Field, StringComparer.Ordinal))
        {
            var list = string.Join(",", group.Select(v => v.Value).Distinct(StringComparer.OrdinalIgnoreCase));
            query = query is null ? EncodedQuery.Where(group.Key, "IN", list) : query.Or(group.Key, "IN", list);
        }

        return query;
    }

    public static bool CanBatch(IReadOnlyList<(string Field, string Value)> values) =>
        values.All(v => !v.Value.Contains(',', StringComparison.Ordinal));

    /// <param name="candidates">Records that may match (more are harmless: only those equal on a match field count).</param>
    public AdoptionDecision Decide(string objectId, IReadOnlyList<(string Field, string Value)> values, IReadOnlyCollection<ServiceNowRecord> candidates)
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
                    $"conflict: {matches.Count} sys_user records have {field} '{value}' ({string.Join(", ", matches.Select(m => m.SysId))}); nothing written");
            }

            var record = matches[0];
            if (record[_objectIdField] is { Length: > 0 } linked && !string.Equals(linked, objectId, StringComparison.OrdinalIgnoreCase))
            {
                return new AdoptionDecision(AdoptionVerdict.Conflict, record.SysId,
                    $"conflict: the sys_user with {field} '{value}' ({record.SysId}) is linked to another Entra object ({linked}); nothing written");
            }

            return new AdoptionDecision(AdoptionVerdict.Adopt, record.SysId, $"adopted: the existing sys_user with {field} '{value}' had no Entra object id");
        }

        return AdoptionDecision.None;
    }
}
