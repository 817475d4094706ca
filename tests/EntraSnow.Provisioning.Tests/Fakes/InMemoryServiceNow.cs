using System.Runtime.CompilerServices;
using EntraSnow.Connectors.ServiceNow;

namespace EntraSnow.Provisioning.Tests.Fakes;

/// <summary>
/// A ServiceNow instance in memory with the Table API's upsert semantics, counting every call and every write.
/// Understands the encoded-query forms the flows use: field=value (ANDed with ^, alternatives with ^OR), fieldIN a,b and
/// fieldISNOTEMPTY, comparing case-insensitively as ServiceNow does.
/// </summary>
internal sealed class InMemoryServiceNow : IServiceNowTable, IServiceNowReferences
{
    private readonly Dictionary<string, List<Dictionary<string, string?>>> _tables = new(StringComparer.Ordinal);
    private int _nextId;

    private int _calls;

    public int Calls => _calls;

    public int Writes { get; private set; }

    /// <summary>When set, every call throws it (an outage).</summary>
    public Exception? FailWith { get; set; }

    /// <summary>Values an ACL forbids: an upsert keyed by one, or a query naming one, answers 403.</summary>
    public HashSet<string> Refused { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Every query asked, as (table, encoded query).</summary>
    public List<(string Table, string Query)> Queries { get; } = [];

    public IReadOnlyList<IReadOnlyDictionary<string, string?>> Records(string table) =>
        _tables.TryGetValue(table, out var rows) ? rows : [];

    public string Seed(string table, Dictionary<string, string?> fields)
    {
        var row = new Dictionary<string, string?>(fields, StringComparer.Ordinal) { ["sys_id"] = NewId() };
        Rows(table).Add(row);
        return row["sys_id"]!;
    }

    public Task<ServiceNowRecord?> GetAsync(string table, string sysId, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default)
    {
        Call();
        var row = Rows(table).FirstOrDefault(r => r["sys_id"] == sysId);
        return Task.FromResult(row is null ? null : new ServiceNowRecord(row));
    }

    public async IAsyncEnumerable<ServiceNowRecord> QueryAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Call();
        Asked(table, query.ToString());
        await Task.Yield();
        foreach (var row in Rows(table).Where(r => Matches(r, query.ToString())).ToList())
        {
            yield return new ServiceNowRecord(WithDotWalks(table, row, fields));
        }
    }

    /// <summary>
    /// Dot-walked fields read through a reference: into the same table, as sys_user's manager does
    /// (<c>manager.u_entra_object_id</c>), or as a membership row's user and group.
    /// </summary>
    private Dictionary<string, string?> WithDotWalks(string table, Dictionary<string, string?> row, IReadOnlyList<string>? fields)
    {
        var result = new Dictionary<string, string?>(row, StringComparer.Ordinal);
        foreach (var field in fields?.Where(f => f.Contains('.', StringComparison.Ordinal)) ?? [])
        {
            var (reference, target) = (field[..field.IndexOf('.', StringComparison.Ordinal)], field[(field.IndexOf('.', StringComparison.Ordinal) + 1)..]);
            var referencedTable = (table, reference) switch
            {
                ("sys_user_grmember", "user") => "sys_user",
                ("sys_user_grmember", "group") => "sys_user_group",
                _ => table,
            };
            var referenced = Rows(referencedTable).FirstOrDefault(r => row.TryGetValue(reference, out var id) && id is { Length: > 0 } && r["sys_id"] == id);
            result[field] = referenced?.GetValueOrDefault(target) ?? string.Empty;
        }

        return result;
    }

    public Task<ServiceNowRecord?> FindAsync(string table, EncodedQuery query, IReadOnlyList<string>? fields = null, CancellationToken cancellationToken = default)
    {
        Call();
        Asked(table, query.ToString());
        var row = Rows(table).FirstOrDefault(r => Matches(r, query.ToString()));
        return Task.FromResult(row is null ? null : new ServiceNowRecord(row));
    }

    public Task<ServiceNowRecord> CreateAsync(string table, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default)
    {
        Call();
        Writes++;
        return Task.FromResult(new ServiceNowRecord(Insert(table, fields)));
    }

    public Task<ServiceNowRecord> UpdateAsync(string table, string sysId, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default)
    {
        Call();
        Writes++;
        var row = Rows(table).First(r => r["sys_id"] == sysId);
        foreach (var (k, v) in fields)
        {
            row[k] = v;
        }

        return Task.FromResult(new ServiceNowRecord(row));
    }

    public Task DeleteAsync(string table, string sysId, CancellationToken cancellationToken = default)
    {
        Call();
        Writes++;
        Rows(table).RemoveAll(r => r["sys_id"] == sysId);
        return Task.CompletedTask;
    }

    public Task<UpsertResult> UpsertAsync(string table, string keyField, string keyValue, IReadOnlyDictionary<string, string?> fields, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(keyValue))
        {
            throw new ServiceNowMatchingValueMissingException(table, keyField);
        }

        Call();
        Asked(table, $"{keyField}={keyValue}");
        var row = Rows(table).FirstOrDefault(r => r.TryGetValue(keyField, out var v) && v == keyValue);
        if (row is null)
        {
            Interlocked.Increment(ref _calls);
            Writes++;
            var created = Insert(table, fields);
            return Task.FromResult(new UpsertResult(UpsertOutcome.Created, created["sys_id"]!, [.. fields.Keys]));
        }

        var changed = fields.Where(f => (row.TryGetValue(f.Key, out var v) ? v ?? string.Empty : string.Empty) != (f.Value ?? string.Empty))
            .Select(f => f.Key).ToList();
        if (changed.Count == 0)
        {
            return Task.FromResult(new UpsertResult(UpsertOutcome.Unchanged, row["sys_id"]!, []));
        }

        Interlocked.Increment(ref _calls);
        Writes++;
        foreach (var k in changed)
        {
            row[k] = fields[k];
        }

        return Task.FromResult(new UpsertResult(UpsertOutcome.Updated, row["sys_id"]!, changed));
    }

    public Task<string?> FindAsync(string table, string field, string value, CancellationToken cancellationToken = default)
    {
        Call();
        return Task.FromResult(Rows(table).FirstOrDefault(r => r.TryGetValue(field, out var v) && v == value)?["sys_id"]);
    }

    public async Task<string> FindOrCreateAsync(string table, string field, string value, CancellationToken cancellationToken = default)
    {
        if (await FindAsync(table, field, value, cancellationToken) is { } existing)
        {
            return existing;
        }

        Writes++;
        return Insert(table, new Dictionary<string, string?> { [field] = value })["sys_id"]!;
    }

    public void Forget(string table, string field, string value)
    {
    }

    private void Asked(string table, string query)
    {
        lock (Queries)
        {
            Queries.Add((table, query));
        }

        if (Refused.Any(value => query.Contains(value, StringComparison.OrdinalIgnoreCase)))
        {
            throw new ServiceNowForbiddenException("ACL Exception: Failed due to security constraints", "Operation Failed");
        }
    }

    private void Call()
    {
        if (FailWith is not null)
        {
            throw FailWith;
        }

        // Flows may ask a few queries at once (batch adoption, the dry run's report).
        Interlocked.Increment(ref _calls);
    }

    private Dictionary<string, string?> Insert(string table, IReadOnlyDictionary<string, string?> fields)
    {
        var row = new Dictionary<string, string?>(fields, StringComparer.Ordinal) { ["sys_id"] = NewId() };
        Rows(table).Add(row);
        return row;
    }

    private string NewId() => $"sys{Interlocked.Increment(ref _nextId):D6}";

    private List<Dictionary<string, string?>> Rows(string table)
    {
        lock (_tables)
        {
            if (!_tables.TryGetValue(table, out var rows))
            {
                _tables[table] = rows = [];
            }

            return rows;
        }
    }

    /// <summary>Conditions joined by ^ must all hold; a ^OR condition is an alternative to the one before. Equality is case-insensitive, as ServiceNow's.</summary>
    private static bool Matches(Dictionary<string, string?> row, string query)
    {
        var groups = new List<List<string>>();
        foreach (var part in query.Split('^', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("ORDERBY", StringComparison.Ordinal))
            {
                continue;
            }

            if (part.StartsWith("OR", StringComparison.Ordinal) && groups.Count > 0)
            {
                groups[^1].Add(part[2..]);
            }
            else
            {
                groups.Add([part]);
            }
        }

        return groups.All(group => group.Any(condition => Holds(row, condition)));
    }

    private static bool Holds(Dictionary<string, string?> row, string part)
    {
        string Value(string f) => row.TryGetValue(f, out var v) ? v ?? string.Empty : string.Empty;
        var isNotEmpty = part.IndexOf("ISNOTEMPTY", StringComparison.Ordinal);
        var inAt = part.IndexOf("IN", StringComparison.Ordinal);
        var eq = part.IndexOf('=');
        if (isNotEmpty > 0)
        {
            return Value(part[..isNotEmpty]).Length > 0;
        }

        if (eq > 0)
        {
            return string.Equals(Value(part[..eq]), part[(eq + 1)..], StringComparison.OrdinalIgnoreCase);
        }

        return inAt <= 0 || part[(inAt + 2)..].Split(',').Contains(Value(part[..inAt]), StringComparer.OrdinalIgnoreCase);
    }
}
