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
        var tally = new ProvisioningTally();
        foreach (var entry in entries)
        {
            tally.Add(entry.ObjectKind, entry.SubjectId, entry.Action, entry.Timestamp, entry.Reason);
        }

        return tally.ToSummary();
    }

    /// <summary>
    /// The summary from how many objects of each kind ended in each action, and the objects whose decisive entry is a
    /// failure or a conflict (oldest first): what a store that counts where the entries are hands back.
    /// </summary>
    public static ProvisioningSummary FromCounts(IEnumerable<(string ObjectKind, ProvisioningAction Action, int Count)> counts,
        IEnumerable<(string SubjectId, string ObjectKind, ProvisioningAction Action, string? Reason)> failedOrConflicting)
    {
        var list = counts.ToList();
        var unwritten = failedOrConflicting.ToList();
        return new ProvisioningSummary(
            Count(list, ProvisioningObjectKinds.User),
            Count(list, ProvisioningObjectKinds.Group),
            Unwritten(unwritten, ProvisioningAction.Failed),
            Unwritten(unwritten, ProvisioningAction.Conflict));
    }

    /// <summary>The entry that counts for each object, by the rule <see cref="FromEntries"/> describes.</summary>
    public static IReadOnlyList<ProvisioningLogEntry> Decisive(IEnumerable<ProvisioningLogEntry> entries)
    {
        var decisive = new Dictionary<(string Kind, string Subject), ProvisioningLogEntry>();
        foreach (var entry in entries)
        {
            var key = (entry.ObjectKind, entry.SubjectId);
            if (!decisive.TryGetValue(key, out var current) || Supersedes(entry.Action, entry.Timestamp, current.Action, current.Timestamp))
            {
                decisive[key] = entry;
            }
        }

        return [.. decisive.Values];
    }

    /// <summary>
    /// How significant an action is for the object's summary, each action its own rank: a write outranks a no-op; a
    /// later success outranks an earlier failure only if it wrote something.
    /// </summary>
    public static int Rank(ProvisioningAction action) => action switch
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

    /// <summary>Whether an entry replaces the object's decisive one so far: more significant, or as significant and not older.</summary>
    internal static bool Supersedes(ProvisioningAction action, DateTimeOffset at, ProvisioningAction current, DateTimeOffset currentAt) =>
        Rank(action) > Rank(current) || (Rank(action) == Rank(current) && at >= currentAt);

    private static List<ProvisioningFailure> Unwritten(List<(string SubjectId, string ObjectKind, ProvisioningAction Action, string? Reason)> objects, ProvisioningAction action) =>
        [.. objects.Where(o => o.Action == action).Select(o => new ProvisioningFailure(o.SubjectId, o.ObjectKind, o.Reason ?? "no reason recorded"))];

    private static ActionCounts Count(List<(string ObjectKind, ProvisioningAction Action, int Count)> counts, string kind)
    {
        int Of(ProvisioningAction action) => counts.Where(c => c.ObjectKind == kind && c.Action == action).Sum(c => c.Count);
        return new ActionCounts(Of(ProvisioningAction.Created), Of(ProvisioningAction.Updated), Of(ProvisioningAction.Unchanged),
            Of(ProvisioningAction.Skipped), Of(ProvisioningAction.Deactivated), Of(ProvisioningAction.Failed),
            Of(ProvisioningAction.Adopted), Of(ProvisioningAction.Conflict));
    }
}
