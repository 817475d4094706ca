namespace EntraSnow.Connectors.ServiceNow;

/// <summary>
/// The ServiceNow Table API as the flows use it. Every write is idempotent when done through
/// <see cref="UpsertAsync"/>: an unchanged record costs no write. Failures are the typed
/// <see cref="ServiceNowException"/> subclasses; credentials never appear in them.
/// </summary>
public interface IServiceNowTable
{
    /// <summary>GET /api/now/table/{table}/{sysId}; null when the record does not exist.</summary>
    Task<ServiceNowRecord?> GetAsync(string table, string sysId, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default);

    /// <summary>Every record matching the query, following the Link rel="next" pages.</summary>
    IAsyncEnumerable<ServiceNowRecord> QueryAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default);

    /// <summary>The first record matching the query (sysparm_limit=1), or null.</summary>
    Task<ServiceNowRecord?> FindAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default);

    Task<ServiceNowRecord> CreateAsync(string table, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default);

    Task<ServiceNowRecord> UpdateAsync(string table, string sysId, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default);

    Task DeleteAsync(string table, string sysId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds the record whose <paramref name="keyField"/> equals <paramref name="keyValue"/>; creates it with
    /// <paramref name="fields"/> when there is none, patches only the fields that differ when there is one, and
    /// writes nothing when nothing differs. An empty key value throws <see cref="ServiceNowMatchingValueMissingException"/>.
    /// </summary>
    Task<UpsertResult> UpsertAsync(string table, string keyField, string keyValue, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default);

    /// <summary>GET by sys_id with display values / reference-link options. Implementations that cannot honour them refuse.</summary>
    Task<ServiceNowRecord?> GetAsync(string table, string sysId, ServiceNowReadOptions read, CancellationToken cancellationToken = default) =>
        IsPlain(read) ? GetAsync(table, sysId, read.Fields, cancellationToken) : throw new NotSupportedException("Display values are not supported by this implementation.");

    /// <summary>A paged query with display values / reference-link options. Implementations that cannot honour them refuse.</summary>
    IAsyncEnumerable<ServiceNowRecord> QueryAsync(string table, EncodedQuery query, ServiceNowReadOptions read, CancellationToken cancellationToken = default) =>
        IsPlain(read) ? QueryAsync(table, query, read.Fields, cancellationToken) : throw new NotSupportedException("Display values are not supported by this implementation.");

    /// <summary>How many records match (ServiceNow's X-Total-Count), read with a one-record page.</summary>
    Task<int> CountAsync(string table, EncodedQuery query, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Counting is not supported by this implementation.");

    private static bool IsPlain(ServiceNowReadOptions read) => read.DisplayValue == ServiceNowDisplayValue.False;
}

public enum UpsertOutcome
{
    Created,
    Updated,
    Unchanged,
}

/// <param name="ChangedFields">The fields written (all given fields on create, only the differing ones on update, none when unchanged).</param>
public sealed record UpsertResult(UpsertOutcome Outcome, string SysId, IReadOnlyList<string> ChangedFields);
