using System.Globalization;
using Microsoft.Extensions.Options;

namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// The fields the emulated instance has, as a real instance's <c>sys_dictionary</c> lists them: each known table's
/// documented fields, the system fields, and the custom fields of <see cref="ServiceNowEmulatorOptions.CustomFields"/>
/// (an instance with EntraSnow's app installed has the Entra object id field on sys_user and sys_user_group).
/// The Table API behaves like a real instance: unknown fields are dropped on insert and update, query terms on unknown
/// fields are ignored (or, with <see cref="ServiceNowEmulatorOptions.InvalidQueryReturnsNoRows"/>, match nothing), and
/// a table the instance does not have is refused (<see cref="HasTable"/>).
/// </summary>
public sealed class ServiceNowDictionary(IOptions<ServiceNowEmulatorOptions> options)
{
    public const string Table = "sys_dictionary";

    private static readonly string[] SystemFields = ["sys_id", "sys_created_on", "sys_created_by", "sys_updated_on", "sys_updated_by", "sys_mod_count"];

    /// <summary>Whether the instance has the table: a documented one, sys_dictionary, or a custom table of <see cref="ServiceNowEmulatorOptions.CustomFields"/>.</summary>
    public bool HasTable(string table) =>
        table == Table || ServiceNowTableSchemas.IsKnown(table) || options.Value.CustomFields.ContainsKey(table);

    /// <summary>Every table the instance has but sys_dictionary itself.</summary>
    public IEnumerable<string> Tables =>
        ServiceNowTableSchemas.KnownTables.Concat(options.Value.CustomFields.Keys).Distinct(StringComparer.Ordinal);

    /// <summary>Whether the table has the field (a dot-walk is judged by its first step).</summary>
    public bool Has(string table, string field)
    {
        var head = field.Split('.', 2)[0];
        return Fields(table).Contains(head, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> Fields(string table)
    {
        var schema = ServiceNowTableSchemas.For(table);
        return [.. SystemFields, .. schema.Fields, .. CustomFields(table)];
    }

    /// <summary>What a write keeps: only the fields the table has.</summary>
    public Dictionary<string, string> Keep(string table, Dictionary<string, string> fields) =>
        fields.Where(f => Has(table, f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    /// <summary>The predicate a query's conditions are judged by.</summary>
    public Func<string, bool> KnownField(string table) => field => Has(table, field);

    public bool InvalidQueryReturnsNoRows => options.Value.InvalidQueryReturnsNoRows;

    /// <summary>The sys_dictionary rows: one per field of every table.</summary>
    public IEnumerable<Dictionary<string, string>> Rows()
    {
        foreach (var table in Tables)
        {
            var schema = ServiceNowTableSchemas.For(table);
            foreach (var field in Fields(table).Distinct(StringComparer.Ordinal))
            {
                var reference = schema.References.GetValueOrDefault(field, string.Empty);
                yield return new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["sys_id"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{table}.{field}")))[..32],
                    ["name"] = table,
                    ["element"] = field,
                    ["internal_type"] = reference.Length > 0 ? "reference" : field == "sys_id" ? "GUID" : "string",
                    ["reference"] = reference,
                    ["column_label"] = CultureInfo.InvariantCulture.TextInfo.ToTitleCase(field.Replace('_', ' ')),
                    ["active"] = "true",
                };
            }
        }
    }

    /// <summary>A page of sys_dictionary rows matching an encoded query, and their total.</summary>
    internal (List<Dictionary<string, string>> Page, int Total) Page(string? encodedQuery, int offset, int limit)
    {
        var filter = EncodedQueryFilter.Parse(encodedQuery);
        var all = Rows().Where(r => filter.Matches(f => r.GetValueOrDefault(f, string.Empty))).ToList();
        return (all.Skip(offset).Take(limit).ToList(), all.Count);
    }

    private string[] CustomFields(string table) =>
        options.Value.CustomFields.TryGetValue(table, out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];
}
