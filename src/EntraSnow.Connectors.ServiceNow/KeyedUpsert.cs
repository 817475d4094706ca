namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// <see cref="IServiceNowTable.UpsertAsync"/> in terms of the table's find, create and update, so every implementation
/// (the Table API client, a dry run that holds its writes back) decides alike.
/// </summary>
public static class KeyedUpsert
{
    public static async Task<UpsertResult> RunAsync(IServiceNowTable serviceNow, string table, string keyField, string keyValue, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(keyValue))
        {
            throw new ServiceNowMatchingValueMissingException(table, keyField);
        }

        var wanted = new Dictionary<string, string?>(fields, StringComparer.Ordinal) { [keyField] = keyValue };
        var readFields = wanted.Keys.Append("sys_id").Distinct(StringComparer.Ordinal).ToList();

        // Oldest first, so that if duplicates already exist the same record is always the one kept current.
        var existing = await serviceNow.FindAsync(table, EncodedQuery.Where(keyField, keyValue).OrderBy("sys_created_on"), readFields, cancellationToken);
        if (existing is not null && !string.Equals(existing[keyField], keyValue, StringComparison.OrdinalIgnoreCase))
        {
            // ServiceNow silently ignores query conditions on fields it does not know: refuse rather than overwrite a stranger.
            throw new ServiceNowRequestException($"ServiceNow ignored the match on {table}.{keyField}; is the field name right?", 400, null);
        }

        if (existing is null)
        {
            var created = await serviceNow.CreateAsync(table, wanted, cancellationToken);
            return new UpsertResult(UpsertOutcome.Created, created.SysId, wanted.Keys.ToList());
        }

        var changes = RecordChanges.Between(existing, wanted, keyField);
        if (changes.Count == 0)
        {
            return new UpsertResult(UpsertOutcome.Unchanged, existing.SysId, []);
        }

        await serviceNow.UpdateAsync(table, existing.SysId, changes, cancellationToken);
        return new UpsertResult(UpsertOutcome.Updated, existing.SysId, changes.Keys.ToList());
    }
}
