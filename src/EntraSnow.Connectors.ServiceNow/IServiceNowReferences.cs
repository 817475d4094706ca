namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// Reference lookups (cmn_department by name, cmn_location by name, sys_user managers, sys_user_group), cached with a
/// time-to-live so provisioning 10,000 users of one department looks the department up once.
/// </summary>
public interface IServiceNowReferences
{
    /// <summary>The sys_id of the record in <paramref name="table"/> whose <paramref name="field"/> equals <paramref name="value"/>, or null.</summary>
    Task<string?> FindAsync(string table, string field, string value, CancellationToken cancellationToken = default);

    /// <summary>Finds the record, or creates it with <paramref name="field"/> = <paramref name="value"/>; returns its sys_id.</summary>
    Task<string> FindOrCreateAsync(string table, string field, string value, CancellationToken cancellationToken = default);

    /// <summary>Forgets a cached answer (e.g. after a record was created elsewhere).</summary>
    void Forget(string table, string field, string value);

    /// <summary>The sys_id of an existing record; a missing one throws <see cref="ServiceNowReferenceMissingException"/> (InvalidLookupReference).</summary>
    async Task<string> RequireAsync(string table, string field, string value, CancellationToken cancellationToken = default) =>
        await FindAsync(table, field, value, cancellationToken) ?? throw new ServiceNowReferenceMissingException(table, field, value);
}
