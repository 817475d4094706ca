namespace EntraSnow.Sandbox.ServiceNow;

/// <summary>
/// Journal fields, as ServiceNow keeps them: writing <c>work_notes</c> or <c>comments</c> adds an entry to
/// <c>sys_journal_field</c> (element, element_id, name, value) and leaves the field itself empty, so every note
/// written stays readable, in order, however many follow.
/// </summary>
public sealed partial class ServiceNowEmulatorStore
{
    public const string JournalTable = "sys_journal_field";

    private static readonly string[] JournalFields = ["work_notes", "comments"];

    /// <summary>The journal entries of one record's field, oldest first.</summary>
    public IReadOnlyList<string> Journal(string table, string sysId, string field = "work_notes") =>
        Query(JournalTable, $"name={table}^element_id={sysId}^element={field}").Select(e => e.GetValueOrDefault("value", string.Empty)).ToList();

    /// <summary>Moves journal fields just written on <paramref name="values"/> into journal entries. Called under the store's lock.</summary>
    private void MoveToJournal(string table, Dictionary<string, string> values, IReadOnlyDictionary<string, string> written, string user)
    {
        if (table == JournalTable)
        {
            return;
        }

        foreach (var field in JournalFields)
        {
            if (!written.TryGetValue(field, out var text))
            {
                continue;
            }

            values[field] = string.Empty;
            if (text.Length == 0)
            {
                continue;
            }

            var entry = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["sys_id"] = Guid.NewGuid().ToString("N"),
                ["name"] = table,
                ["element"] = field,
                ["element_id"] = values["sys_id"],
                ["value"] = text,
                ["sys_created_on"] = Now(),
                ["sys_created_by"] = user,
            };
            var record = new StoredRecord(++_sequence, entry);
            Records(JournalTable)[entry["sys_id"]] = record;
            Index(JournalTable, record, add: true);
            Persist(JournalTable, record);
        }
    }
}
