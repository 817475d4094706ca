namespace EntraSnow.Prove.Rig;

/// <summary>
/// Graph's final state against ServiceNow's, for the users a scenario touched: a user whose sys_user is missing or
/// does not show Graph's job title and account state lost a change; more than one sys_user (or department) for one
/// object is a duplicate; more sys_user writes than changes made is a duplicated write.
/// </summary>
internal sealed record Reconciliation(int Touched, int OutOfStep, int DuplicateRecords, long UserInserts, long UserWrites)
{
    public static Reconciliation Of(Stage stage, IReadOnlyCollection<string> touched)
    {
        var records = stage.ServiceNow.Store.Query("sys_user", "u_entra_object_idISNOTEMPTY")
            .GroupBy(r => r["u_entra_object_id"], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var outOfStep = touched.Count(id =>
        {
            var user = stage.Graph.Emulator.GetUser(id);
            if (!records.TryGetValue(id, out var found) || user is null)
            {
                return true;
            }

            var record = found[^1];
            var title = user["jobTitle"]?.GetValue<string>() ?? "";
            var active = (user["accountEnabled"]?.GetValue<bool>() ?? true) ? "true" : "false";
            return record.GetValueOrDefault("title", "") != title || record.GetValueOrDefault("active", "") != active;
        });
        var duplicateUsers = records.Values.Sum(r => r.Count - 1);
        var duplicateDepartments = stage.ServiceNow.Store.Query("cmn_department")
            .GroupBy(r => r.GetValueOrDefault("name", ""), StringComparer.OrdinalIgnoreCase).Sum(g => g.Count() - 1);
        var counters = stage.ServiceNow.Counters;
        return new Reconciliation(touched.Count, outOfStep, duplicateUsers + duplicateDepartments,
            counters.Served("POST", "sys_user"), counters.Writes("sys_user"));
    }

    /// <summary>Duplicate records, plus writes beyond one per change made (a replayed write).</summary>
    public int Duplicated(int changesMade) => DuplicateRecords + (int)Math.Max(0, UserWrites - changesMade);
}
