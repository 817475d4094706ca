using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// The emulator's records: held in memory for fast queries and written through to SQLite so a file-backed sandbox
/// keeps its data across restarts. Public so tests and the seed command can read and write records directly.
/// </summary>
public sealed partial class ServiceNowEmulatorStore : IDisposable
{
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss";

    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly TimeProvider _timeProvider;
    private readonly Dictionary<string, Dictionary<string, StoredRecord>> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _nextNumber = new(StringComparer.Ordinal);

    // Equality indexes (table, field) -> value -> records, built the first time a query needs one, then kept current.
    private readonly Dictionary<(string Table, string Field), Dictionary<string, HashSet<StoredRecord>>> _indexes = [];
    private long _sequence;

    /// <param name="databasePath">A SQLite file, or ":memory:" for a private in-memory database.</param>
    public ServiceNowEmulatorStore(string databasePath, TimeProvider? timeProvider = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        var isMemory = string.IsNullOrEmpty(databasePath) || databasePath == ":memory:";
        if (!isMemory && Path.GetDirectoryName(Path.GetFullPath(databasePath)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = isMemory ? ":memory:" : databasePath, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
        Execute("CREATE TABLE IF NOT EXISTS records (tbl TEXT NOT NULL, sys_id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tbl, sys_id));");
        Load();
    }

    /// <summary>A copy of one record, or null.</summary>
    public IReadOnlyDictionary<string, string>? Get(string table, string sysId)
    {
        lock (_gate)
        {
            return Find(table, sysId) is { } record ? new Dictionary<string, string>(record.Fields, StringComparer.Ordinal) : null;
        }
    }

    /// <summary>Copies of the records matching an encoded query, in query order (creation order when none is given).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Query(string table, string? encodedQuery = null)
    {
        lock (_gate)
        {
            return Select(table, EncodedQueryFilter.Parse(encodedQuery))
                .Select(r => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(r.Fields, StringComparer.Ordinal))
                .ToList();
        }
    }

    public int Count(string table)
    {
        lock (_gate)
        {
            return _tables.TryGetValue(table, out var records) ? records.Count : 0;
        }
    }

    /// <summary>Inserts a record as the Table API would: defaults, sys_id, number, timestamps, priority.</summary>
    public IReadOnlyDictionary<string, string> Insert(string table, IReadOnlyDictionary<string, string> fields, string user = "admin")
    {
        var schema = ServiceNowTableSchemas.For(table);
        lock (_gate)
        {
            var now = Now();
            var values = new Dictionary<string, string>(schema.Defaults, StringComparer.Ordinal);
            foreach (var (field, value) in fields)
            {
                if (!field.StartsWith("sys_", StringComparison.Ordinal) || field == "sys_id")
                {
                    values[field] = ResolveReference(schema, field, value);
                }
            }

            var sysId = values.TryGetValue("sys_id", out var given) && IsSysId(given) && Find(table, given) is null
                ? given
                : Guid.NewGuid().ToString("N");
            values["sys_id"] = sysId;
            if (schema.NumberPrefix is { } prefix && string.IsNullOrEmpty(values.GetValueOrDefault("number")))
            {
                values["number"] = NextNumber(prefix);
            }

            values["sys_created_on"] = now;
            values["sys_updated_on"] = now;
            values["sys_created_by"] = user;
            values["sys_updated_by"] = user;
            values["sys_mod_count"] = "0";
            Derive(schema, values, fields);
            MoveToJournal(table, values, fields, user);
            StampTaskState(table, values, fields, inserted: true, user);
            var record = new StoredRecord(++_sequence, values);
            Records(table)[sysId] = record;
            Index(table, record, add: true);
            Persist(table, record);
            return new Dictionary<string, string>(values, StringComparer.Ordinal);
        }
    }

    /// <summary>Updates the given fields; null when there is no such record.</summary>
    public IReadOnlyDictionary<string, string>? Update(string table, string sysId, IReadOnlyDictionary<string, string> fields, string user = "admin")
    {
        var schema = ServiceNowTableSchemas.For(table);
        lock (_gate)
        {
            if (Find(table, sysId) is not { } record)
            {
                return null;
            }

            var changed = false;
            Index(table, record, add: false);
            foreach (var (field, value) in fields)
            {
                if (field.StartsWith("sys_", StringComparison.Ordinal) || (table == "incident" && field == "priority"))
                {
                    continue; // System fields, and incident priority (derived), are read-only.
                }

                var resolved = ResolveReference(schema, field, value);
                if (!record.Fields.TryGetValue(field, out var old) || old != resolved)
                {
                    record.Fields[field] = resolved;
                    changed = true;
                }
            }

            if (changed)
            {
                // Like ServiceNow, an update that changes nothing does not touch sys_updated_on or sys_mod_count.
                Derive(schema, record.Fields, fields);
                MoveToJournal(table, record.Fields, fields, user);
                StampTaskState(table, record.Fields, fields, inserted: false, user);
                record.Fields["sys_updated_on"] = Now();
                record.Fields["sys_updated_by"] = user;
                record.Fields["sys_mod_count"] = (long.Parse(record.Fields.GetValueOrDefault("sys_mod_count", "0"), CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture);
                Persist(table, record);
            }

            Index(table, record, add: true);
            return new Dictionary<string, string>(record.Fields, StringComparer.Ordinal);
        }
    }

    public bool Delete(string table, string sysId)
    {
        lock (_gate)
        {
            if (!_tables.TryGetValue(table, out var records) || !records.Remove(sysId, out var removed))
            {
                return false;
            }

            Index(table, removed, add: false);
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM records WHERE tbl = $tbl AND sys_id = $id";
            command.Parameters.AddWithValue("$tbl", table);
            command.Parameters.AddWithValue("$id", sysId);
            command.ExecuteNonQuery();
            return true;
        }
    }

    /// <summary>A page of matching records plus the total, as the list endpoint serves them.</summary>
    /// <param name="knownField">The table's fields, when the emulator knows them all: conditions on others are ignored.</param>
    /// <param name="unknownMatchesNothing">Instead, a condition on an unknown field matches nothing (glide.invalid_query.returns_no_rows).</param>
    internal (List<Dictionary<string, string>> Page, int Total) Page(string table, string? encodedQuery, int offset, int limit,
        Func<string, bool>? knownField = null, bool unknownMatchesNothing = false)
    {
        lock (_gate)
        {
            var filter = EncodedQueryFilter.Parse(encodedQuery, knownField);
            var all = filter.NamedUnknownField && unknownMatchesNothing ? [] : Select(table, filter);
            var page = all.Skip(offset).Take(limit).Select(r => new Dictionary<string, string>(r.Fields, StringComparer.Ordinal)).ToList();
            return (page, all.Count);
        }
    }

    /// <summary>The value of a field, dot-walking through references (<c>department.name</c>).</summary>
    internal string FieldValue(string table, IReadOnlyDictionary<string, string> record, string field)
    {
        lock (_gate)
        {
            return Walk(table, record, field);
        }
    }

    /// <summary>The display value of the record a reference points at ("" when unset or dangling).</summary>
    internal string DisplayOf(string table, string sysId)
    {
        lock (_gate)
        {
            var schema = ServiceNowTableSchemas.For(table);
            return Find(table, sysId) is { } target ? target.Fields.GetValueOrDefault(schema.DisplayField, string.Empty) : string.Empty;
        }
    }

    private List<StoredRecord> Select(string table, EncodedQueryFilter filter)
    {
        if (!_tables.TryGetValue(table, out var records))
        {
            return [];
        }

        IEnumerable<StoredRecord> candidates = records.Values;
        if (filter.TryGetRequiredValues(out var alternatives))
        {
            candidates = alternatives.SelectMany(a => Lookup(IndexFor(table, a.Field, records), a.Values)).Distinct();
        }

        var matches = candidates.Where(r => filter.Matches(f => Walk(table, r.Fields, f)));
        IOrderedEnumerable<StoredRecord>? ordered = null;
        foreach (var (field, descending) in filter.Order)
        {
            var comparer = Comparer<string>.Create(EncodedQueryFilter.Compare);
            ordered = ordered is null
                ? descending ? matches.OrderByDescending(r => Walk(table, r.Fields, field), comparer) : matches.OrderBy(r => Walk(table, r.Fields, field), comparer)
                : descending ? ordered.ThenByDescending(r => Walk(table, r.Fields, field), comparer) : ordered.ThenBy(r => Walk(table, r.Fields, field), comparer);
        }

        // Creation order breaks ties, so pages are stable.
        return (ordered?.ThenBy(r => r.Sequence) ?? matches.OrderBy(r => r.Sequence)).ToList();
    }

    private string Walk(string table, IReadOnlyDictionary<string, string> fields, string path)
    {
        var dot = path.IndexOf('.', StringComparison.Ordinal);
        // A dotted name stored as is (a requested item's variables.<name>) is read as is.
        if (dot < 0 || fields.ContainsKey(path))
        {
            return fields.GetValueOrDefault(path, string.Empty);
        }

        var schema = ServiceNowTableSchemas.For(table);
        var head = path[..dot];
        if (!schema.References.TryGetValue(head, out var target) || Find(target, fields.GetValueOrDefault(head, string.Empty)) is not { } referenced)
        {
            return string.Empty;
        }

        return Walk(target, referenced.Fields, path[(dot + 1)..]);
    }

    /// <summary>Computed fields: sys_user.name from first and last name, incident priority from impact × urgency.</summary>
    private static void Derive(TableSchema schema, Dictionary<string, string> values, IReadOnlyDictionary<string, string> written)
    {
        if (schema.Name == "sys_user" && !written.ContainsKey("name") && (written.ContainsKey("first_name") || written.ContainsKey("last_name")))
        {
            values["name"] = $"{values.GetValueOrDefault("first_name")} {values.GetValueOrDefault("last_name")}".Trim();
        }

        if (schema.Name == "incident")
        {
            values["priority"] = Priority(values.GetValueOrDefault("impact", "3"), values.GetValueOrDefault("urgency", "3"));
        }
    }

    /// <summary>ServiceNow's default priority lookup: 1×1 is 1 (critical) … 3×3 is 5 (planning).</summary>
    internal static string Priority(string impact, string urgency)
    {
        var i = int.TryParse(impact, CultureInfo.InvariantCulture, out var a) ? Math.Clamp(a, 1, 3) : 3;
        var u = int.TryParse(urgency, CultureInfo.InvariantCulture, out var b) ? Math.Clamp(b, 1, 3) : 3;
        return (i + u - 1).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A reference may be set by sys_id or, as ServiceNow allows, by the display value of the target.</summary>
    private string ResolveReference(TableSchema schema, string field, string value)
    {
        if (value.Length == 0 || !schema.References.TryGetValue(field, out var target) || Find(target, value) is not null)
        {
            return value;
        }

        var display = ServiceNowTableSchemas.For(target).DisplayField;
        return _tables.TryGetValue(target, out var records)
            && records.Values.OrderBy(r => r.Sequence).FirstOrDefault(r => string.Equals(r.Fields.GetValueOrDefault(display), value, StringComparison.OrdinalIgnoreCase)) is { } match
            ? match.Fields["sys_id"]
            : value;
    }

    private Dictionary<string, HashSet<StoredRecord>> IndexFor(string table, string field, Dictionary<string, StoredRecord> records)
    {
        if (!_indexes.TryGetValue((table, field), out var index))
        {
            index = new Dictionary<string, HashSet<StoredRecord>>(StringComparer.OrdinalIgnoreCase);
            foreach (var record in records.Values)
            {
                Add(index, record.Fields.GetValueOrDefault(field, string.Empty), record);
            }

            _indexes[(table, field)] = index;
        }

        return index;
    }

    private static IEnumerable<StoredRecord> Lookup(Dictionary<string, HashSet<StoredRecord>> index, IReadOnlyCollection<string> values) =>
        values.SelectMany(v => index.GetValueOrDefault(v) ?? []);

    private void Index(string table, StoredRecord record, bool add)
    {
        foreach (var ((indexedTable, field), index) in _indexes)
        {
            if (indexedTable != table)
            {
                continue;
            }

            var value = record.Fields.GetValueOrDefault(field, string.Empty);
            if (add)
            {
                Add(index, value, record);
            }
            else if (index.TryGetValue(value, out var set))
            {
                set.Remove(record);
            }
        }
    }

    private static void Add(Dictionary<string, HashSet<StoredRecord>> index, string value, StoredRecord record)
    {
        if (!index.TryGetValue(value, out var set))
        {
            set = [];
            index[value] = set;
        }

        set.Add(record);
    }

    private StoredRecord? Find(string table, string sysId) =>
        _tables.TryGetValue(table, out var records) && records.TryGetValue(sysId, out var record) ? record : null;

    private Dictionary<string, StoredRecord> Records(string table)
    {
        if (!_tables.TryGetValue(table, out var records))
        {
            records = new Dictionary<string, StoredRecord>(StringComparer.Ordinal);
            _tables[table] = records;
        }

        return records;
    }

    private string NextNumber(string prefix)
    {
        var next = _nextNumber.GetValueOrDefault(prefix, 10001);
        _nextNumber[prefix] = next + 1;
        return prefix + next.ToString("D7", CultureInfo.InvariantCulture);
    }

    private string Now() => _timeProvider.GetUtcNow().UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    private static bool IsSysId(string value) => value.Length == 32 && value.All(char.IsAsciiHexDigit);

    private void Persist(string table, StoredRecord record)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "INSERT OR REPLACE INTO records (tbl, sys_id, seq, data) VALUES ($tbl, $id, $seq, $data)";
        command.Parameters.AddWithValue("$tbl", table);
        command.Parameters.AddWithValue("$id", record.Fields["sys_id"]);
        command.Parameters.AddWithValue("$seq", record.Sequence);
        command.Parameters.AddWithValue("$data", JsonSerializer.Serialize(record.Fields));
        command.ExecuteNonQuery();
    }

    private void Load()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT tbl, seq, data FROM records ORDER BY seq";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var table = reader.GetString(0);
            var fields = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2)) ?? [];
            var record = new StoredRecord(reader.GetInt64(1), new Dictionary<string, string>(fields, StringComparer.Ordinal));
            Records(table)[fields.GetValueOrDefault("sys_id", string.Empty)] = record;
            _sequence = Math.Max(_sequence, record.Sequence);
            if (ServiceNowTableSchemas.For(table).NumberPrefix is { } prefix
                && fields.GetValueOrDefault("number") is { } number && number.StartsWith(prefix, StringComparison.Ordinal)
                && long.TryParse(number.AsSpan(prefix.Length), CultureInfo.InvariantCulture, out var n))
            {
                _nextNumber[prefix] = Math.Max(_nextNumber.GetValueOrDefault(prefix, 10001), n + 1);
            }
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => _connection.Dispose();

    /// <summary>Identity matters (indexes hold records in sets), so this is a class, not a record.</summary>
    private sealed class StoredRecord(long sequence, Dictionary<string, string> fields)
    {
        public long Sequence { get; } = sequence;

        public Dictionary<string, string> Fields { get; } = fields;
    }
}
