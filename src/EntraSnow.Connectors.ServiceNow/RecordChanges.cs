namespace EntraSnow.Connectors.ServiceNow;

/// <summary>The fields a write would actually change on a record ServiceNow already holds: what a PATCH should carry.</summary>
public static class RecordChanges
{
    /// <param name="caseInsensitiveField">
    /// The field the record was matched on: ServiceNow matches case-insensitively, so a change of case alone is not
    /// worth a write.
    /// </param>
    public static Dictionary<string, string?> Between(IReadOnlyDictionary<string, string?> existing, IReadOnlyDictionary<string, string?> wanted, string? caseInsensitiveField = null)
    {
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (field, value) in wanted)
        {
            var comparison = field == caseInsensitiveField ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            var current = existing.TryGetValue(field, out var v) ? v : null;
            if (!string.Equals(current ?? string.Empty, value ?? string.Empty, comparison))
            {
                changes[field] = value;
            }
        }

        return changes;
    }
}
