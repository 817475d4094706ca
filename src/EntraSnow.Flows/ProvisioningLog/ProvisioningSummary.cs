namespace EntraSnow.Flows.ProvisioningLog;

/// <summary>How many objects ended in each action.</summary>
public sealed record ActionCounts(int Created, int Updated, int Unchanged, int Skipped, int Deactivated, int Failed, int Adopted = 0, int Conflicts = 0)
{
    public static ActionCounts None { get; } = new(0, 0, 0, 0, 0, 0);

    public int Total => Created + Updated + Unchanged + Skipped + Deactivated + Failed + Adopted + Conflicts;
}

public sealed record ProvisioningFailure(string SubjectId, string ObjectKind, string Reason);

/// <summary>What one correlation id (a sync run) did, one decisive action per object.</summary>
/// <param name="Conflicts">Objects left unwritten because their existing records are ambiguous or taken, with the reason.</param>
public sealed record ProvisioningSummary(ActionCounts Users, ActionCounts Groups, IReadOnlyList<ProvisioningFailure> Failures, IReadOnlyList<ProvisioningFailure>? Conflicts = null)
{
    public static ProvisioningSummary Empty { get; } = new(ActionCounts.None, ActionCounts.None, []);

    /// <summary>
    /// Folds entries into counts. An object processed more than once in a run (a redelivery after a crash, a
    /// follow-up for a late manager) counts once, by its most significant action: a user created and then found
    /// unchanged on redelivery was created.
    /// </summary>
    public static ProvisioningSummary FromEntries(IEnumerable<ProvisioningLogEntry> entries)
    {
        var decisive = Decisive(entries);
        return new ProvisioningSummary(
            Count(decisive.Where(e => e.ObjectKind == ProvisioningObjectKinds.User)),
            Count(decisive.Where(e => e.ObjectKind == ProvisioningObjectKinds.Group)),
            decisive.Where(e => e.Action == ProvisioningAction.Failed)
                .OrderBy(e => e.Timestamp)
                .Select(e => new ProvisioningFailure(e.SubjectId, e.ObjectKind, e.Reason ?? "no reason recorded"))
                .ToList(),
            decisive.Where(e => e.Action == ProvisioningAction.Conflict)
                .OrderBy(e => e.Timestamp)
                .Select(e => new ProvisioningFailure(e.SubjectId, e.ObjectKind, e.Reason ?? "no reason recorded"))
                .ToList());
    }

    /// <summary>The entry that counts for each object, by the rule <see cref="FromEntries"/> describes.</summary>
    public static IReadOnlyList<ProvisioningLogEntry> Decisive(IEnumerable<ProvisioningLogEntry> entries)
    {
        var decisive = new Dictionary<(string Kind, string Subject), ProvisioningLogEntry>();
        foreach (var entry in entries)
        {
            var key = (entry.ObjectKind, entry.SubjectId);
            if (!decisive.TryGetValue(key, out var current) || Rank(entry) > Rank(current) ||
                (Rank(entry) == Rank(current) && entry.Timestamp >= current.Timestamp))
            {
                decisive[key] = entry;
            }
        }

        return [.. decisive.Values];
    }

    // A write outranks a no-op; a later success outranks an earlier failure only if it wrote something.
    private static int Rank(ProvisioningLogEntry entry) => entry.Action switch
    {
        ProvisioningAction.Created => 8,
        ProvisioningAction.Adopted => 7,
        ProvisioningAction.Deactivated => 6,
        ProvisioningAction.Updated => 5,
        ProvisioningAction.Failed => 4,
        ProvisioningAction.Conflict => 3,
        ProvisioningAction.Unchanged => 2,
        _ => 1,
    };

    private static ActionCounts Count(IEnumerable<ProvisioningLogEntry> entries)
    {
        int created = 0, updated = 0, unchanged = 0, skipped = 0, deactivated = 0, failed = 0, adopted = 0, conflicts = 0;
        foreach (var entry in entries)
        {
            switch (entry.Action)
            {
                case ProvisioningAction.Created: created++; break;
                case ProvisioningAction.Updated: updated++; break;
                case ProvisioningAction.Unchanged: unchanged++; break;
                case ProvisioningAction.Skipped: skipped++; break;
                case ProvisioningAction.Deactivated: deactivated++; break;
                case ProvisioningAction.Failed: failed++; break;
                case ProvisioningAction.Adopted: adopted++; break;
                case ProvisioningAction.Conflict: conflicts++; break;
            }
        }

        return new ActionCounts(created, updated, unchanged, skipped, deactivated, failed, adopted, conflicts);
    }
}
